/**
 * The workspace server's export API (``agoria-tre/export/...``), as the front end sees it.
 * Types only: nothing here runs.
 */

/** What to send: a file, a whole notebook, or some of a notebook's cells (nbformat ids). */
export interface ISource {
  path: string;
  cells?: string[];
}

export type Verdict = 'pass' | 'review' | 'fail';

export interface IFinding {
  rule: string;
  status: 'review' | 'fail';
  summary: string;
  /** "" or e.g. "cell 2 / output 1 / table 1". */
  where: string;
}

export interface ITableCell {
  value: string;
  /** Why the cell is flagged, in words; empty when it is not. */
  flags: string[];
}

export interface ITable {
  header: string[];
  /** How many leading columns are labels (row headers). */
  labels: number;
  rows: { cells: ITableCell[] }[];
  truncated: boolean;
}

/** One item of ``POST check``'s answer. */
export interface IChecked {
  source: ISource;
  name: string;
  evidence: string | null;
  status: Verdict;
  summary: string;
  findings: IFinding[];
  table: ITable | null;
}

export interface IStatus {
  project: string;
  user: string;
  airlock_url: string;
}

export type RequestStatus =
  | 'draft'
  | 'submitted'
  | 'checking'
  | 'in_review'
  | 'released'
  | 'rejected'
  | 'withdrawn';

export interface ISummary {
  id: string;
  project: string;
  title: string;
  status: RequestStatus;
  requester: string;
  round: number;
  created_at: string;
  submitted_at: string | null;
  updated_at: string | null;
  items: number;
  check_status: Verdict | null;
  decisions_missing: number;
  /** Absolute path of the request's airlock page. */
  page: string;
  /** Only in a request's full record (``IRequest``). */
  return_comment?: string | null;
}

/** The checker's report on one item, as the airlock keeps it. */
export interface ICheckReport {
  status: Verdict;
  rules?: { rule: string; status: Verdict; summary: string }[];
  children?: ICheckReport[];
}

export interface IDecision {
  reviewer: string;
  decision: 'approve' | 'reject';
  comment: string | null;
  exception: boolean;
  at: string;
}

export interface IItem {
  id: string;
  name: string;
  sha256: string;
  size: number;
  justification: string | null;
  kind: string;
  check: ICheckReport | null;
  outcome: null | 'approved' | 'rejected' | 'conflicted' | 'pending';
  released: boolean;
  decisions: IDecision[];
  decisions_missing: number;
}

export interface IRequest extends Omit<ISummary, 'items'> {
  return_comment: string | null;
  items: IItem[];
  release: null | { sha256: string; released_at: string; released_by: string };
}

/** An item as the export form sends it. */
export interface ISubmitItem extends ISource {
  justification?: string;
}
