/**
 * The "Exports" side panel: this user's export requests for this workspace's project, newest
 * first; each one opens onto its items, the reviewers' decisions and comments, and the actions
 * left (resubmit a returned request, withdraw one before its release).
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { LabIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ExportApi } from './api';
import { fill, h, uid, verdictBadge } from './dom';
import {
  canWithdraw,
  decisionLine,
  decisionsMissingWords,
  describeError,
  formatTime,
  isReturned,
  itemsWords,
  newestFirst,
  outcomeWords,
  reportFindings,
  resubmitBody,
  shouldPoll,
  statusWords
} from './model';
import type { IItem, IRequest, IStatus, ISummary } from './types';

/** How often the panel refreshes while it is shown. */
export const POLL_MS = 30_000;

export class ExportsPanel extends Widget {
  constructor(api: ExportApi, icon?: LabIcon) {
    super();
    this._api = api;
    this.id = 'agoria-tre-exports';
    this.addClass('agoria-exports-panel');
    this.title.caption = 'Exports';
    if (icon) {
      this.title.icon = icon;
    } else {
      this.title.label = 'Exports';
    }
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Exports');

    this._refresh = h(
      'button',
      {
        type: 'button',
        class: 'jp-mod-styled agoria-exports-refresh',
        onclick: () => void this.refresh()
      },
      'Refresh'
    );
    this._who = h('p', { class: 'agoria-exports-who' });
    this._status = h('p', { class: 'agoria-exports-status', role: 'status', 'aria-live': 'polite' });
    this._list = h('ul', { class: 'agoria-exports-list' });
    fill(
      this.node,
      h(
        'div',
        { class: 'agoria-exports-header' },
        h('h2', {}, 'Exports'),
        this._refresh
      ),
      this._who,
      this._status,
      this._list
    );
  }

  /** Reads the requests again (and the details of the open or returned ones). */
  async refresh(): Promise<void> {
    if (this._loading) {
      return this._loading;
    }
    this._loading = this._load().finally(() => {
      this._loading = null;
    });
    return this._loading;
  }

  dispose(): void {
    this._stopPolling();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
    this._stopPolling();
    this._timer = window.setInterval(() => {
      if (shouldPoll(this.isVisible, this._loading !== null) && !this._editing()) {
        void this.refresh();
      }
    }, POLL_MS);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._stopPolling();
  }

  private _stopPolling(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
  }

  /** Whether the researcher is typing in the panel (a refresh would redraw under them). */
  private _editing(): boolean {
    const active = document.activeElement;
    return !!active && this.node.contains(active) && active.tagName === 'TEXTAREA';
  }

  private async _load(): Promise<void> {
    this._refresh.disabled = true;
    this.node.setAttribute('aria-busy', 'true');
    if (!this._requests.length) {
      fill(this._status, 'Loading…');
    }
    try {
      if (!this._whoami) {
        // Who and where, once: a panel without it still lists the requests.
        this._whoami = await this._api.status().catch(() => null);
        if (this._whoami) {
          fill(this._who, `${this._whoami.user}’s requests for project ${this._whoami.project}.`);
        }
      }
      const requests = newestFirst(await this._api.list());
      const wanted = requests.filter(r => r.status === 'draft' || this._open.has(r.id));
      const details = await Promise.all(
        wanted.map(r => this._api.get(r.id).catch(() => this._details.get(r.id)))
      );
      this._details = new Map(
        details.filter((d): d is IRequest => !!d).map(d => [d.id, d])
      );
      this._requests = requests;
      fill(this._status, requests.length ? '' : 'No export requests yet. Use “Request export…” on a file, a notebook or its cells.');
      this._render();
    } catch (error) {
      fill(this._status, h('span', { class: 'agoria-exports-error', role: 'alert' }, describeError(error)));
    } finally {
      this._refresh.disabled = false;
      this.node.removeAttribute('aria-busy');
    }
  }

  private _render(): void {
    fill(this._list, this._requests.map(request => this._renderRequest(request)));
  }

  private _renderRequest(summary: ISummary): HTMLElement {
    const detail = this._details.get(summary.id);
    const request = {
      ...summary,
      return_comment: detail?.return_comment ?? summary.return_comment
    };
    const returned = isReturned(request);
    const open = this._open.has(summary.id);
    const bodyId = uid('agoria-export-request-body');
    const message = h('p', { class: 'agoria-exports-message', role: 'alert' });
    const pending = ['submitted', 'checking', 'in_review'].includes(summary.status);

    const actions = h(
      'div',
      { class: 'agoria-exports-actions' },
      returned
        ? h(
            'button',
            {
              type: 'button',
              class: 'jp-mod-styled jp-mod-accept agoria-exports-resubmit',
              onclick: (event: Event) =>
                void this._resubmit(summary.id, event.target as HTMLButtonElement, message)
            },
            'Resubmit'
          )
        : null,
      canWithdraw(summary.status)
        ? h(
            'button',
            {
              type: 'button',
              class: 'jp-mod-styled agoria-exports-withdraw',
              onclick: (event: Event) =>
                void this._withdraw(summary, event.target as HTMLButtonElement, message)
            },
            'Withdraw'
          )
        : null,
      h(
        'a',
        { href: summary.page, target: '_blank', rel: 'noopener noreferrer' },
        'Open in the airlock'
      )
    );

    return h(
      'li',
      {
        class: `agoria-export-request agoria-export-request-${returned ? 'returned' : summary.status}`,
        'data-id': summary.id
      },
      h(
        'button',
        {
          type: 'button',
          class: 'agoria-exports-toggle',
          'aria-expanded': open ? 'true' : 'false',
          'aria-controls': bodyId,
          onclick: () => this._toggle(summary.id)
        },
        h('span', { class: 'agoria-exports-title' }, summary.title || '(untitled)')
      ),
      h(
        'div',
        { class: 'agoria-exports-meta' },
        h('span', { class: 'agoria-status' }, statusWords(request)),
        verdictBadge(summary.check_status),
        h('span', {}, itemsWords(summary.items)),
        pending ? h('span', {}, decisionsMissingWords(summary.decisions_missing)) : null,
        h('time', { datetime: summary.created_at }, formatTime(summary.created_at))
      ),
      returned
        ? h(
            'div',
            { class: 'agoria-exports-returned' },
            h('strong', {}, 'Returned by the reviewers: '),
            request.return_comment || '(no comment)',
            h(
              'p',
              {},
              'Fix the files where they are, then resubmit: they are read again from there.'
            )
          )
        : null,
      actions,
      message,
      h(
        'div',
        { id: bodyId, class: 'agoria-exports-body', hidden: !open },
        open ? this._renderDetail(summary, detail, returned) : null
      )
    );
  }

  private _renderDetail(
    summary: ISummary,
    detail: IRequest | undefined,
    returned: boolean
  ): HTMLElement {
    if (!detail) {
      return h('p', {}, 'Loading…');
    }
    const edits = this._edits.get(summary.id) ?? {};
    this._edits.set(summary.id, edits);
    return h(
      'ul',
      { class: 'agoria-exports-items' },
      detail.items.map(item => this._renderItem(item, returned, edits))
    );
  }

  private _renderItem(item: IItem, returned: boolean, edits: Record<string, string>): HTMLElement {
    const findings = reportFindings(item.check);
    const outcome = outcomeWords(item.outcome);
    const justId = uid('agoria-exports-justification');
    return h(
      'li',
      { class: 'agoria-exports-item', 'data-name': item.name },
      h(
        'div',
        { class: 'agoria-exports-item-head' },
        h('span', { class: 'agoria-exports-item-name' }, item.name),
        verdictBadge(item.check?.status ?? null),
        outcome ? h('span', { class: 'agoria-exports-outcome' }, outcome) : null,
        item.released ? h('span', { class: 'agoria-exports-released' }, 'released') : null
      ),
      findings.length
        ? h('ul', { class: 'agoria-exports-findings' }, findings.map(line => h('li', {}, line)))
        : null,
      item.decisions.length
        ? h(
            'ul',
            { class: 'agoria-exports-decisions', 'aria-label': `Decisions on ${item.name}` },
            item.decisions.map(decision => h('li', {}, decisionLine(decision)))
          )
        : null,
      returned
        ? h(
            'div',
            { class: 'agoria-export-field' },
            h('label', { for: justId }, 'Justification'),
            h('textarea', {
              id: justId,
              class: 'jp-mod-styled',
              rows: 2,
              'aria-label': `Justification for ${item.name}`,
              value: edits[item.name] ?? item.justification ?? '',
              oninput: (event: Event) => {
                edits[item.name] = (event.target as HTMLTextAreaElement).value;
              }
            })
          )
        : item.justification
          ? h('p', { class: 'agoria-exports-justification' }, `Justification: ${item.justification}`)
          : null
    );
  }

  private _toggle(id: string): void {
    if (this._open.has(id)) {
      this._open.delete(id);
      this._render();
      return;
    }
    this._open.add(id);
    this._render();
    if (!this._details.has(id)) {
      this._api
        .get(id)
        .then(detail => {
          this._details.set(id, detail);
          this._render();
        })
        .catch(error => {
          fill(this._status, h('span', { class: 'agoria-exports-error', role: 'alert' }, describeError(error)));
        });
    }
  }

  private async _resubmit(id: string, button: HTMLButtonElement, message: HTMLElement): Promise<void> {
    const detail = this._details.get(id);
    button.disabled = true;
    fill(message, 'Reading the files again and resubmitting…');
    try {
      const request = await this._api.resubmit(
        id,
        resubmitBody(detail?.items ?? [], this._edits.get(id) ?? {})
      );
      this._edits.delete(id);
      this._details.set(id, request);
      await this.refresh();
      fill(this._status, `“${request.title}” was resubmitted: ${statusWords(request)}.`);
    } catch (error) {
      button.disabled = false;
      fill(message, describeError(error));
    }
  }

  private async _withdraw(summary: ISummary, button: HTMLButtonElement, message: HTMLElement): Promise<void> {
    const answer = await showDialog({
      title: 'Withdraw this request?',
      body: `“${summary.title}” will be withdrawn: reviewers will no longer decide on it, and it cannot be submitted again.`,
      buttons: [
        Dialog.cancelButton({ label: 'Keep it' }),
        Dialog.warnButton({ label: 'Withdraw request' })
      ]
    });
    if (!answer.button.accept) {
      return;
    }
    button.disabled = true;
    fill(message);
    try {
      const request = await this._api.withdraw(summary.id);
      this._details.set(summary.id, request);
      await this.refresh();
      fill(this._status, `“${request.title}” was withdrawn.`);
    } catch (error) {
      button.disabled = false;
      fill(message, describeError(error));
    }
  }

  private _api: ExportApi;
  private _refresh: HTMLButtonElement;
  private _who: HTMLElement;
  private _status: HTMLElement;
  private _list: HTMLElement;
  private _whoami: IStatus | null = null;
  private _requests: ISummary[] = [];
  private _details = new Map<string, IRequest>();
  private _open = new Set<string>();
  private _edits = new Map<string, Record<string, string>>();
  private _loading: Promise<void> | null = null;
  private _timer: number | null = null;
}
