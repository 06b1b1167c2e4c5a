/**
 * The export form: checks what would be sent on this workspace, shows the verdicts (and, for a
 * table, its grid with the flagged cells), takes a title and the justifications, then submits
 * the request for review and shows what the airlock answered. One form for a file selection,
 * a notebook, or some of its cells.
 */

import { Widget } from '@lumino/widgets';

import { ExportApi } from './api';
import { fill, h, uid, verdictBadge } from './dom';
import {
  canSubmit,
  describeError,
  findingLine,
  gridModel,
  IFormState,
  needsJustification,
  requestBody,
  statusWords,
  submitProblems,
  verdictLabel,
  verdictMeaning
} from './model';
import type { IChecked, IRequest, ISource } from './types';

export namespace ExportForm {
  export interface IOptions {
    api: ExportApi;
    sources: ISource[];
    /** Called once a request was submitted (the Exports panel refreshes). */
    onSubmitted?: (request: IRequest) => void;
    /** Called by "Cancel" / "Close": the host closes the form. */
    onClose?: () => void;
  }
}

interface IEntry {
  checked: IChecked;
  send: boolean;
  justification: string;
  /** The "required" note beside a failed item's justification. */
  note?: HTMLElement;
  textarea?: HTMLTextAreaElement;
}

export class ExportForm extends Widget {
  constructor(options: ExportForm.IOptions) {
    super();
    this.addClass('agoria-export-dialog');
    this.node.setAttribute('role', 'form');
    this.node.setAttribute('aria-label', 'Request export');
    this._options = options;

    const titleId = uid('agoria-export-title');
    this._title = h('input', {
      id: titleId,
      type: 'text',
      class: 'jp-mod-styled agoria-export-title',
      'aria-label': 'Export title',
      placeholder: 'What is this export? e.g. Table 2 of the cohort paper',
      maxlength: 200,
      oninput: () => this._update()
    });
    this._status = h('div', { class: 'agoria-export-status', role: 'status', 'aria-live': 'polite' });
    this._error = h('div', { class: 'agoria-export-error', role: 'alert' });
    this._items = h('div', { class: 'agoria-export-items' });
    this._problems = h('ul', { class: 'agoria-export-problems', 'aria-live': 'polite' });
    this._outcome = h('div', { class: 'agoria-export-outcome', 'aria-live': 'polite', hidden: true });
    this._submit = h(
      'button',
      {
        type: 'button',
        class: 'jp-Dialog-button jp-mod-accept jp-mod-styled agoria-export-submit',
        disabled: true,
        onclick: () => void this._send()
      },
      'Submit for review'
    );
    this._cancel = h(
      'button',
      {
        type: 'button',
        class: 'jp-Dialog-button jp-mod-reject jp-mod-styled agoria-export-cancel',
        onclick: () => this._close()
      },
      'Cancel'
    );
    this._retry = h(
      'button',
      {
        type: 'button',
        class: 'jp-Dialog-button jp-mod-styled agoria-export-retry',
        hidden: true,
        onclick: () => void this.check()
      },
      'Check again'
    );

    fill(
      this.node,
      h('h2', { class: 'agoria-export-heading' }, 'Request export'),
      h(
        'p',
        { class: 'agoria-export-intro' },
        'What you send is checked here, on this workspace, before anything leaves it. ' +
          'Reviewers then decide what is released.'
      ),
      h(
        'div',
        { class: 'agoria-export-field' },
        h('label', { for: titleId }, 'Title'),
        this._title
      ),
      this._status,
      this._error,
      this._items,
      this._problems,
      this._outcome,
      h('div', { class: 'agoria-export-buttons' }, this._retry, this._cancel, this._submit)
    );
  }

  /** Runs the check on the sources and shows its answer. */
  async check(): Promise<void> {
    this._checked = false;
    this._retry.hidden = true;
    this._entries = [];
    fill(this._items);
    fill(this._error);
    fill(this._status, 'Checking on this workspace…');
    this.node.setAttribute('aria-busy', 'true');
    this._update();
    try {
      const checked = await this._options.api.check(this._options.sources);
      if (this.isDisposed) {
        return;
      }
      this._entries = checked.map(item => ({ checked: item, send: true, justification: '' }));
      this._checked = true;
      fill(this._status, checkSummary(checked));
      fill(this._items, this._entries.map(entry => this._renderItem(entry)));
      this._title.focus();
    } catch (error) {
      if (this.isDisposed) {
        return;
      }
      fill(this._status);
      fill(this._error, describeError(error));
      this._retry.hidden = false;
    } finally {
      this.node.removeAttribute('aria-busy');
    }
    this._update();
  }

  /** The form's state as the submit rule sees it. */
  get state(): IFormState {
    return {
      checked: this._checked,
      busy: this._busy,
      title: this._title.value,
      items: this._entries.map(entry => ({
        name: entry.checked.name,
        status: entry.checked.status,
        send: entry.send,
        justification: entry.justification
      }))
    };
  }

  private _renderItem(entry: IEntry): HTMLElement {
    const item = entry.checked;
    const sendId = uid('agoria-export-send');
    const justId = uid('agoria-export-justification');
    const failed = needsJustification(item);

    const checkbox = h('input', {
      id: sendId,
      type: 'checkbox',
      class: 'agoria-export-send',
      checked: true,
      'aria-label': `Send ${item.name}`,
      onchange: (event: Event) => {
        entry.send = (event.target as HTMLInputElement).checked;
        root.classList.toggle('agoria-export-unsent', !entry.send);
        this._update();
      }
    });
    entry.textarea = h('textarea', {
      id: justId,
      class: 'jp-mod-styled agoria-export-justification',
      rows: 3,
      'aria-label': `Justification for ${item.name}`,
      'aria-required': failed ? 'true' : false,
      placeholder: failed
        ? 'Why this should be released although it failed the check'
        : 'Optional: anything the reviewers should know',
      oninput: (event: Event) => {
        entry.justification = (event.target as HTMLTextAreaElement).value;
        this._update();
      }
    });
    if (failed) {
      entry.note = h(
        'p',
        { class: 'agoria-export-required' },
        'A justification is required to send this item: without one a reviewer can only reject it.'
      );
    }

    const source = item.source.cells
      ? `${item.source.path}, ${item.source.cells.length} cell${item.source.cells.length === 1 ? '' : 's'}`
      : item.source.path;

    const root = h(
      'section',
      {
        class: `agoria-export-item agoria-export-item-${item.status}`,
        'data-name': item.name,
        'aria-label': `${item.name}: ${verdictLabel(item.status)}`
      },
      h(
        'div',
        { class: 'agoria-export-item-head' },
        checkbox,
        h('label', { for: sendId, class: 'agoria-export-name' }, item.name),
        verdictBadge(item.status)
      ),
      h(
        'p',
        { class: 'agoria-export-source' },
        `From ${source}`,
        item.evidence ? `, with its evidence ${item.evidence}` : ''
      ),
      h('p', { class: 'agoria-export-summary' }, item.summary),
      item.findings.length
        ? h(
            'ul',
            { class: 'agoria-export-findings' },
            item.findings.map(finding =>
              h(
                'li',
                { class: `agoria-finding agoria-finding-${finding.status}` },
                h('span', { class: 'agoria-finding-status' }, verdictLabel(finding.status)),
                ' ',
                findingLine(finding)
              )
            )
          )
        : null,
      item.table ? renderGrid(item) : null,
      h(
        'div',
        { class: 'agoria-export-field' },
        h('label', { for: justId }, failed ? 'Justification (required)' : 'Justification'),
        entry.textarea
      ),
      entry.note ?? null
    );
    return root;
  }

  /** Enables "Submit for review" when the rule allows, and says what is missing otherwise. */
  private _update(): void {
    const state = this.state;
    this._submit.disabled = !canSubmit(state);
    const problems = this._done || !this._checked ? [] : submitProblems(state);
    fill(this._problems, problems.map(problem => h('li', {}, problem)));
    for (const entry of this._entries) {
      if (entry.note) {
        const missing = entry.send && !entry.justification.trim();
        entry.note.classList.toggle('agoria-export-missing', missing);
        entry.textarea?.setAttribute('aria-invalid', missing ? 'true' : 'false');
      }
    }
  }

  private async _send(): Promise<void> {
    if (!canSubmit(this.state)) {
      return;
    }
    this._busy = true;
    fill(this._error);
    fill(this._status, 'Submitting for review…');
    this._update();
    try {
      const request = await this._options.api.submit(
        requestBody(
          this._title.value,
          this._entries.map(entry => ({
            source: entry.checked.source,
            send: entry.send,
            justification: entry.justification
          }))
        )
      );
      this._done = true;
      this._showOutcome(request);
      this._options.onSubmitted?.(request);
    } catch (error) {
      fill(this._status);
      fill(this._error, describeError(error));
    } finally {
      this._busy = false;
      this._update();
    }
  }

  private _showOutcome(request: IRequest): void {
    fill(this._status);
    this._title.disabled = true;
    for (const control of Array.from(this._items.querySelectorAll('input, textarea'))) {
      (control as HTMLInputElement).disabled = true;
    }
    this._submit.hidden = true;
    this._cancel.textContent = 'Close';
    fill(
      this._outcome,
      h('h3', {}, 'Submitted for review'),
      h(
        'p',
        {},
        `“${request.title}”: `,
        h('span', { class: 'agoria-status' }, statusWords(request)),
        '.'
      ),
      h(
        'p',
        {},
        'The airlock’s check: ',
        verdictBadge(request.check_status),
        ` — it ${verdictMeaning(request.check_status)}.`
      ),
      h(
        'p',
        {},
        h(
          'a',
          { href: request.page, target: '_blank', rel: 'noopener noreferrer' },
          'Open in the airlock'
        )
      )
    );
    this._outcome.hidden = false;
    this._cancel.focus();
  }

  private _close(): void {
    this._options.onClose?.();
  }

  private _options: ExportForm.IOptions;
  private _title: HTMLInputElement;
  private _status: HTMLElement;
  private _error: HTMLElement;
  private _items: HTMLElement;
  private _problems: HTMLElement;
  private _outcome: HTMLElement;
  private _submit: HTMLButtonElement;
  private _cancel: HTMLButtonElement;
  private _retry: HTMLButtonElement;
  private _entries: IEntry[] = [];
  private _checked = false;
  private _busy = false;
  private _done = false;
}

/** "3 items checked: 1 PASS, 1 REVIEW, 1 FAIL." */
function checkSummary(items: IChecked[]): string {
  const counts = (['pass', 'review', 'fail'] as const)
    .map(verdict => [verdict, items.filter(item => item.status === verdict).length] as const)
    .filter(([, count]) => count > 0)
    .map(([verdict, count]) => `${count} ${verdictLabel(verdict)}`);
  const noun = items.length === 1 ? 'item' : 'items';
  return `Checked on this workspace: ${items.length} ${noun}${counts.length ? ` (${counts.join(', ')})` : ''}.`;
}

/** A checked table's grid: label columns as row headers, flagged cells marked with reasons. */
function renderGrid(item: IChecked): HTMLElement {
  const grid = gridModel(item.table!);
  return h(
    'figure',
    { class: 'agoria-grid-figure' },
    h(
      'div',
      { class: 'agoria-grid-scroll' },
      h(
        'table',
        { class: 'agoria-grid' },
        h('caption', {}, `${item.name} as checked`),
        grid.header.length
          ? h(
              'thead',
              {},
              h(
                'tr',
                {},
                grid.header.map(cell =>
                  h('th', { scope: 'col', class: cell.label ? 'agoria-label' : '' }, cell.value)
                )
              )
            )
          : null,
        h(
          'tbody',
          {},
          grid.rows.map(row =>
            h(
              'tr',
              {},
              row.map(cell => {
                const content = [
                  h('span', { class: 'agoria-value' }, cell.value),
                  cell.flagged
                    ? h('span', { class: 'agoria-flag-reason' }, cell.flags.join('; '))
                    : null
                ];
                const classes = [cell.label ? 'agoria-label' : '', cell.flagged ? 'agoria-flag' : '']
                  .filter(Boolean)
                  .join(' ');
                return h('td', { class: classes || null, title: cell.title || null }, content);
              })
            )
          )
        )
      )
    ),
    h('figcaption', {}, grid.note)
  );
}
