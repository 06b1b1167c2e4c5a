/**
 * The export front end's decisions, kept apart from JupyterLab and the DOM so that they are
 * tested on their own: what a selection sends, what the words for a status are, when a request
 * can be submitted, how a checked table is shown, what an error says, in which order requests
 * are listed.
 */

import type {
  ICheckReport,
  IDecision,
  IItem,
  ISource,
  ISubmitItem,
  ISummary,
  ITable,
  RequestStatus,
  Verdict
} from './types';

/** The sidecar that carries an output's evidence: ``X.evidence.json`` travels with ``X``. */
export const SIDECAR_SUFFIX = '.evidence.json';

/** What the file browser tells of one selected entry (a subset of ``Contents.IModel``). */
export interface ISelected {
  path: string;
  type: string;
}

export function isSidecar(path: string): boolean {
  return path.endsWith(SIDECAR_SUFFIX);
}

/** The output a sidecar belongs to. */
export function outputOfSidecar(path: string): string {
  return path.slice(0, path.length - SIDECAR_SUFFIX.length);
}

/**
 * The sources a file-browser selection sends: every selected file (folders are not sent), once,
 * in the order of the listing. A sidecar whose output is selected too is left out, since the
 * server sends it with its output; a sidecar selected alone is kept, for the server to refuse
 * it with its own words.
 */
export function sourcesFromSelection(selected: Iterable<ISelected>): ISource[] {
  const files: string[] = [];
  for (const item of selected) {
    if (item.type !== 'directory' && !files.includes(item.path)) {
      files.push(item.path);
    }
  }
  const chosen = new Set(files);
  return files
    .filter(path => !(isSidecar(path) && chosen.has(outputOfSidecar(path))))
    .map(path => ({ path }));
}

/** A notebook's cells as a source: the ids of the chosen (selected or active) cells. */
export function cellsSource(
  path: string,
  cells: { id: string; chosen: boolean }[]
): ISource {
  const ids: string[] = [];
  for (const cell of cells) {
    if (cell.chosen && !ids.includes(cell.id)) {
      ids.push(cell.id);
    }
  }
  if (ids.length === 0) {
    throw new Error('Select the cells to export first.');
  }
  return { path, cells: ids };
}

const STATUS_WORDS: Record<RequestStatus, string> = {
  draft: 'Draft',
  submitted: 'Submitted',
  checking: 'Being checked',
  in_review: 'In review',
  released: 'Released',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn'
};

/** A draft the reviewers sent back with a comment, for the researcher to fix and resubmit. */
export function isReturned(request: Pick<ISummary, 'status' | 'return_comment'>): boolean {
  return request.status === 'draft' && typeof request.return_comment === 'string';
}

/** A request's status in words; a returned draft reads "Returned". */
export function statusWords(request: Pick<ISummary, 'status' | 'return_comment'>): string {
  if (isReturned(request)) {
    return 'Returned';
  }
  return STATUS_WORDS[request.status] ?? request.status;
}

/** Whether the researcher can still withdraw the request (anything before a decision). */
export function canWithdraw(status: RequestStatus): boolean {
  return ['draft', 'submitted', 'checking', 'in_review'].includes(status);
}

/** The text of a verdict badge. */
export function verdictLabel(verdict: Verdict | null | undefined): string {
  return verdict ? verdict.toUpperCase() : 'NOT CHECKED';
}

/** What a verdict means, in a sentence's words. */
export function verdictMeaning(verdict: Verdict | null | undefined): string {
  switch (verdict) {
    case 'pass':
      return 'passed the disclosure checks';
    case 'review':
      return 'needs a reviewer to look at it';
    case 'fail':
      return 'failed the disclosure checks';
    default:
      return 'has not been checked';
  }
}

/** The reviewers' outcome on one item, in words ("" while there is none). */
export function outcomeWords(outcome: IItem['outcome']): string {
  switch (outcome) {
    case 'approved':
      return 'Approved';
    case 'rejected':
      return 'Rejected';
    case 'conflicted':
      return 'Reviewers disagree';
    case 'pending':
      return 'Awaiting decisions';
    default:
      return '';
  }
}

export function decisionsMissingWords(count: number): string {
  if (count <= 0) {
    return 'no decision missing';
  }
  return count === 1 ? '1 decision missing' : `${count} decisions missing`;
}

/** One reviewer's decision as a line: "bob: rejected (exception) — too few units". */
export function decisionLine(decision: IDecision): string {
  const verb = decision.decision === 'approve' ? 'approved' : 'rejected';
  const exception = decision.exception ? ' (exception)' : '';
  const comment = decision.comment ? ` — ${decision.comment}` : '';
  return `${decision.reviewer}: ${verb}${exception}${comment}`;
}

/** The rules of an airlock check report that did not pass, once each, depth first. */
export function reportFindings(report: ICheckReport | null): string[] {
  const lines: string[] = [];
  const walk = (node: ICheckReport): void => {
    for (const rule of node.rules ?? []) {
      const line = `${rule.rule}: ${rule.summary}`;
      if (rule.status !== 'pass' && !lines.includes(line)) {
        lines.push(line);
      }
    }
    for (const child of node.children ?? []) {
      walk(child);
    }
  };
  if (report) {
    walk(report);
  }
  return lines;
}

/** A finding of the local check as one line: "threshold (cell 2 / output 1): 1 cell ...". */
export function findingLine(finding: { rule: string; where: string; summary: string }): string {
  const where = finding.where ? ` (${finding.where})` : '';
  return `${finding.rule}${where}: ${finding.summary}`;
}

// --- the export form ------------------------------------------------------------------------

/** What the form knows of one checked item. */
export interface IFormItem {
  name: string;
  status: Verdict;
  send: boolean;
  justification: string;
}

export interface IFormState {
  /** Whether the check has answered (the items are known). */
  checked: boolean;
  /** Whether a submission is under way. */
  busy: boolean;
  title: string;
  items: IFormItem[];
}

/** A failed item reaches a reviewer only with a justification (else they can only reject). */
export function needsJustification(item: Pick<IFormItem, 'status'>): boolean {
  return item.status === 'fail';
}

/** What stands between the form and "Submit for review", in words; empty when nothing does. */
export function submitProblems(state: IFormState): string[] {
  if (!state.checked) {
    return ['The check has not answered yet.'];
  }
  const problems: string[] = [];
  if (!state.title.trim()) {
    problems.push('Give the request a title.');
  }
  const sent = state.items.filter(item => item.send);
  if (sent.length === 0) {
    problems.push('Tick at least one item to send.');
  }
  for (const item of sent) {
    if (needsJustification(item) && !item.justification.trim()) {
      problems.push(`${item.name} failed the check: justify it to send it.`);
    }
  }
  return problems;
}

export function canSubmit(state: IFormState): boolean {
  return !state.busy && submitProblems(state).length === 0;
}

/** The body of ``POST requests``: the ticked items, each with its justification if any. */
export function requestBody(
  title: string,
  items: { source: ISource; send: boolean; justification: string }[]
): { title: string; items: ISubmitItem[] } {
  return {
    title: title.trim(),
    items: items
      .filter(item => item.send)
      .map(item => {
        const justification = item.justification.trim();
        return justification ? { ...item.source, justification } : { ...item.source };
      })
  };
}

/**
 * The body of ``POST requests/{id}/resubmit``: the justifications the researcher changed,
 * by item name (unchanged or emptied ones are left as they are).
 */
export function resubmitBody(
  items: Pick<IItem, 'name' | 'justification'>[],
  edits: Record<string, string>
): { justifications?: Record<string, string> } {
  const justifications: Record<string, string> = {};
  for (const item of items) {
    const edited = (edits[item.name] ?? '').trim();
    if (edited && edited !== (item.justification ?? '').trim()) {
      justifications[item.name] = edited;
    }
  }
  return Object.keys(justifications).length ? { justifications } : {};
}

// --- a checked table ------------------------------------------------------------------------

export interface IGridCell {
  value: string;
  flags: string[];
  flagged: boolean;
  /** A label (row header) column rather than a value. */
  label: boolean;
  /** The reasons, one a line, for the cell's tooltip ("" when not flagged). */
  title: string;
}

export interface IGrid {
  header: { value: string; label: boolean }[];
  rows: IGridCell[][];
  flagged: number;
  truncated: boolean;
  /** A sentence under the grid: how many cells are flagged, whether rows were left out. */
  note: string;
}

export function gridModel(table: ITable): IGrid {
  let flagged = 0;
  const rows = table.rows.map(row =>
    row.cells.map((cell, column) => {
      const flags = cell.flags ?? [];
      if (flags.length) {
        flagged += 1;
      }
      return {
        value: cell.value,
        flags,
        flagged: flags.length > 0,
        label: column < table.labels,
        title: flags.join('\n')
      };
    })
  );
  const parts = [
    flagged === 0
      ? 'No cell is flagged.'
      : flagged === 1
        ? '1 cell is flagged.'
        : `${flagged} cells are flagged.`
  ];
  if (table.truncated) {
    parts.push('Only the first rows are shown here.');
  }
  return {
    header: table.header.map((value, column) => ({ value, label: column < table.labels })),
    rows,
    flagged,
    truncated: table.truncated,
    note: parts.join(' ')
  };
}

// --- errors ---------------------------------------------------------------------------------

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function field(body: unknown, name: string): string {
  if (body && typeof body === 'object') {
    const value = (body as Record<string, unknown>)[name];
    if (typeof value === 'string' && value.trim()) {
      return value;
    }
  }
  return '';
}

/** The sentence to show for an error answer: the server's ``message``, else what is known. */
export function errorMessage(status: number, statusText: string, body: string): string {
  const message = field(parseJson(body), 'message');
  if (message) {
    return message;
  }
  const reason = statusText ? ` ${statusText}` : '';
  return `The workspace server answered ${status}${reason}.`;
}

/** The error's code (``{"error": "<code>"}``), or "http-<status>" without one. */
export function errorCode(status: number, body: string): string {
  return field(parseJson(body), 'error') || `http-${status}`;
}

/** Anything thrown, as a sentence. */
export function describeError(error: unknown): string {
  if (error instanceof Error && error.message) {
    return error.message;
  }
  return typeof error === 'string' && error ? error : 'Something went wrong.';
}

// --- the Exports panel ----------------------------------------------------------------------

function timeOf(iso: string | null | undefined): number {
  const time = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(time) ? -Infinity : time;
}

/** Newest first (by creation time; undated last; then by id, for a stable order). */
export function newestFirst<T extends { id: string; created_at: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => {
    const ta = timeOf(a.created_at);
    const tb = timeOf(b.created_at);
    if (ta !== tb) {
      return ta < tb ? 1 : -1;
    }
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  });
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** A time as "2026-05-01 14:03" in the browser's time zone; "" when there is none. */
export function formatTime(iso: string | null | undefined): string {
  const time = timeOf(iso);
  if (time === -Infinity) {
    return '';
  }
  const d = new Date(time);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

/** "1 item" / "3 items". */
export function itemsWords(count: number): string {
  return count === 1 ? '1 item' : `${count} items`;
}

/** Whether the panel refreshes now: only while it is shown, and not twice at once. */
export function shouldPoll(visible: boolean, loading: boolean): boolean {
  return visible && !loading;
}
