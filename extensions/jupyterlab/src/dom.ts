/**
 * A small helper to build DOM nodes: the widgets are plain Lumino widgets that render by hand
 * (no React), text always set as text, never as HTML.
 */

import type { Verdict } from './types';
import { verdictLabel, verdictMeaning } from './model';

type Listener = (event: Event) => void;
type AttrValue = string | number | boolean | Listener | null | undefined;
export type Child = Node | string | null | undefined | false;

/**
 * ``h('button', {class: 'x', onclick: f, disabled: true}, 'Text')``. ``class`` sets the class
 * name, ``on*`` adds a listener, ``value``/``checked``/``disabled`` set the property, ``true``
 * sets an empty attribute, and ``false``/``null``/``undefined`` leave it out.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      node.className = String(value);
    } else if (key === 'value' || key === 'checked' || key === 'disabled') {
      (node as unknown as Record<string, unknown>)[key] = value;
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(node: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Replaces a node's children. */
export function fill(node: Node, ...children: (Child | Child[])[]): void {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
  append(node, children);
}

/** A verdict badge: PASS / REVIEW / FAIL, its meaning for a screen reader in its title. */
export function verdictBadge(verdict: Verdict | null | undefined): HTMLElement {
  return h(
    'span',
    {
      class: `agoria-verdict agoria-verdict-${verdict ?? 'none'}`,
      title: `The check: ${verdictMeaning(verdict)}`
    },
    verdictLabel(verdict)
  );
}

let counter = 0;

/** A fresh id for a label's ``for``. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
