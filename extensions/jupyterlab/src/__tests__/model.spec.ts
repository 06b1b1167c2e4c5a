import {
  canSubmit,
  canWithdraw,
  cellsSource,
  decisionLine,
  decisionsMissingWords,
  describeError,
  errorCode,
  errorMessage,
  findingLine,
  formatTime,
  gridModel,
  IFormState,
  isReturned,
  isSidecar,
  itemsWords,
  needsJustification,
  newestFirst,
  outcomeWords,
  outputOfSidecar,
  reportFindings,
  requestBody,
  resubmitBody,
  shouldPoll,
  sourcesFromSelection,
  statusWords,
  submitProblems,
  verdictLabel,
  verdictMeaning
} from '../model';
import type { RequestStatus } from '../types';

const file = (path: string) => ({ path, type: 'file' });

describe('the sources of a file-browser selection', () => {
  it('sends every selected file once, in the listing order', () => {
    const selected = [
      file('outputs/b.csv'),
      { path: 'analysis.ipynb', type: 'notebook' },
      file('outputs/b.csv'),
      file('figure.png')
    ];
    expect(sourcesFromSelection(selected)).toEqual([
      { path: 'outputs/b.csv' },
      { path: 'analysis.ipynb' },
      { path: 'figure.png' }
    ]);
  });

  it('never sends a folder', () => {
    expect(
      sourcesFromSelection([{ path: 'outputs', type: 'directory' }, file('outputs/t.csv')])
    ).toEqual([{ path: 'outputs/t.csv' }]);
    expect(sourcesFromSelection([{ path: 'outputs', type: 'directory' }])).toEqual([]);
  });

  it('drops a sidecar whose output is selected too, whichever comes first', () => {
    expect(
      sourcesFromSelection([file('outputs/t.csv.evidence.json'), file('outputs/t.csv')])
    ).toEqual([{ path: 'outputs/t.csv' }]);
    expect(
      sourcesFromSelection([file('outputs/t.csv'), file('outputs/t.csv.evidence.json')])
    ).toEqual([{ path: 'outputs/t.csv' }]);
  });

  it('keeps a sidecar selected alone, for the server to refuse', () => {
    expect(
      sourcesFromSelection([file('outputs/t.csv.evidence.json'), file('outputs/u.csv')])
    ).toEqual([{ path: 'outputs/t.csv.evidence.json' }, { path: 'outputs/u.csv' }]);
  });

  it('pairs a sidecar with the output of the same folder only', () => {
    expect(
      sourcesFromSelection([file('a/t.csv'), file('b/t.csv.evidence.json')])
    ).toEqual([{ path: 'a/t.csv' }, { path: 'b/t.csv.evidence.json' }]);
  });

  it('knows a sidecar and its output', () => {
    expect(isSidecar('outputs/t.csv.evidence.json')).toBe(true);
    expect(isSidecar('outputs/t.csv')).toBe(false);
    expect(isSidecar('evidence.json')).toBe(false);
    expect(outputOfSidecar('outputs/t.csv.evidence.json')).toBe('outputs/t.csv');
  });
});

describe('the source of a notebook cell selection', () => {
  it('sends the chosen cells by id, once each, in the notebook order', () => {
    expect(
      cellsSource('work/a.ipynb', [
        { id: 'c1', chosen: false },
        { id: 'c2', chosen: true },
        { id: 'c3', chosen: true },
        { id: 'c2', chosen: true }
      ])
    ).toEqual({ path: 'work/a.ipynb', cells: ['c2', 'c3'] });
  });

  it('refuses an empty selection rather than send the whole notebook', () => {
    expect(() => cellsSource('a.ipynb', [{ id: 'c1', chosen: false }])).toThrow(
      'Select the cells to export first.'
    );
  });
});

describe('status words', () => {
  const words: [RequestStatus, string][] = [
    ['draft', 'Draft'],
    ['submitted', 'Submitted'],
    ['checking', 'Being checked'],
    ['in_review', 'In review'],
    ['released', 'Released'],
    ['rejected', 'Rejected'],
    ['withdrawn', 'Withdrawn']
  ];
  it.each(words)('%s reads %s', (status, expected) => {
    expect(statusWords({ status })).toBe(expected);
    expect(statusWords({ status, return_comment: null })).toBe(expected);
  });

  it('a draft with the reviewers\u2019 comment reads Returned', () => {
    expect(statusWords({ status: 'draft', return_comment: 'Round the counts.' })).toBe(
      'Returned'
    );
    expect(isReturned({ status: 'draft', return_comment: '' })).toBe(true);
    expect(isReturned({ status: 'draft', return_comment: null })).toBe(false);
    expect(isReturned({ status: 'draft' })).toBe(false);
    expect(isReturned({ status: 'rejected', return_comment: 'No.' })).toBe(false);
  });

  it('an unknown status is shown as it came', () => {
    expect(statusWords({ status: 'archived' as RequestStatus })).toBe('archived');
  });

  it('can withdraw only before a decision', () => {
    expect(['draft', 'submitted', 'checking', 'in_review'].every(s => canWithdraw(s as RequestStatus))).toBe(true);
    expect(canWithdraw('released')).toBe(false);
    expect(canWithdraw('rejected')).toBe(false);
    expect(canWithdraw('withdrawn')).toBe(false);
  });
});

describe('verdicts, outcomes and decisions in words', () => {
  it('labels a badge', () => {
    expect(verdictLabel('pass')).toBe('PASS');
    expect(verdictLabel('review')).toBe('REVIEW');
    expect(verdictLabel('fail')).toBe('FAIL');
    expect(verdictLabel(null)).toBe('NOT CHECKED');
    expect(verdictLabel(undefined)).toBe('NOT CHECKED');
  });

  it('says what a verdict means', () => {
    expect(verdictMeaning('pass')).toBe('passed the disclosure checks');
    expect(verdictMeaning('review')).toBe('needs a reviewer to look at it');
    expect(verdictMeaning('fail')).toBe('failed the disclosure checks');
    expect(verdictMeaning(null)).toBe('has not been checked');
  });

  it('names an item outcome', () => {
    expect(outcomeWords('approved')).toBe('Approved');
    expect(outcomeWords('rejected')).toBe('Rejected');
    expect(outcomeWords('conflicted')).toBe('Reviewers disagree');
    expect(outcomeWords('pending')).toBe('Awaiting decisions');
    expect(outcomeWords(null)).toBe('');
  });

  it('counts missing decisions', () => {
    expect(decisionsMissingWords(0)).toBe('no decision missing');
    expect(decisionsMissingWords(-1)).toBe('no decision missing');
    expect(decisionsMissingWords(1)).toBe('1 decision missing');
    expect(decisionsMissingWords(2)).toBe('2 decisions missing');
    expect(itemsWords(1)).toBe('1 item');
    expect(itemsWords(0)).toBe('0 items');
    expect(itemsWords(4)).toBe('4 items');
  });

  it('writes a decision as a line', () => {
    const at = '2026-05-01T10:00:00Z';
    expect(
      decisionLine({ reviewer: 'bob', decision: 'approve', comment: null, exception: false, at })
    ).toBe('bob: approved');
    expect(
      decisionLine({
        reviewer: 'carol',
        decision: 'reject',
        comment: 'Counts under 11.',
        exception: true,
        at
      })
    ).toBe('carol: rejected (exception) — Counts under 11.');
  });

  it('writes a finding as a line, with where it is when known', () => {
    expect(
      findingLine({ rule: 'threshold', where: 'cell 2 / output 1', summary: '1 cell under 11' })
    ).toBe('threshold (cell 2 / output 1): 1 cell under 11');
    expect(findingLine({ rule: 'dominance', where: '', summary: 'one unit dominates' })).toBe(
      'dominance: one unit dominates'
    );
  });

  it('lists the rules of a check report that did not pass, depth first, once each', () => {
    expect(reportFindings(null)).toEqual([]);
    expect(reportFindings({ status: 'pass' })).toEqual([]);
    expect(
      reportFindings({
        status: 'fail',
        rules: [
          { rule: 'type', status: 'pass', summary: 'a table' },
          { rule: 'threshold', status: 'fail', summary: '2 cells under 11' }
        ],
        children: [
          {
            status: 'review',
            rules: [{ rule: 'dominance', status: 'review', summary: 'look at row 3' }],
            children: [
              {
                status: 'fail',
                rules: [{ rule: 'threshold', status: 'fail', summary: '2 cells under 11' }]
              }
            ]
          }
        ]
      })
    ).toEqual(['threshold: 2 cells under 11', 'dominance: look at row 3']);
  });
});

describe('the submit rule', () => {
  const state = (over: Partial<IFormState> = {}): IFormState => ({
    checked: true,
    busy: false,
    title: 'Table 2',
    items: [
      { name: 't.csv', status: 'pass', send: true, justification: '' },
      { name: 'u.csv', status: 'fail', send: true, justification: 'Counts are rounded to 10.' }
    ],
    ...over
  });

  it('allows a titled request whose failed items are justified', () => {
    expect(submitProblems(state())).toEqual([]);
    expect(canSubmit(state())).toBe(true);
  });

  it('waits for the check', () => {
    expect(submitProblems(state({ checked: false }))).toEqual(['The check has not answered yet.']);
    expect(canSubmit(state({ checked: false }))).toBe(false);
  });

  it('waits while a submission is under way', () => {
    expect(canSubmit(state({ busy: true }))).toBe(false);
  });

  it('needs a title that is not blank', () => {
    expect(submitProblems(state({ title: '  ' }))).toEqual(['Give the request a title.']);
    expect(canSubmit(state({ title: '' }))).toBe(false);
  });

  it('needs a justification, not blank, on every failed item sent', () => {
    const items = state().items.map(item => ({ ...item, justification: ' \n' }));
    expect(submitProblems(state({ items }))).toEqual([
      'u.csv failed the check: justify it to send it.'
    ]);
    expect(canSubmit(state({ items }))).toBe(false);
  });

  it('does not ask to justify a failed item that is not sent', () => {
    const items = state().items.map(item =>
      item.status === 'fail' ? { ...item, send: false, justification: '' } : item
    );
    expect(canSubmit(state({ items }))).toBe(true);
  });

  it('does not ask to justify an item for review', () => {
    const items = [{ name: 'v.csv', status: 'review' as const, send: true, justification: '' }];
    expect(canSubmit(state({ items }))).toBe(true);
    expect(needsJustification({ status: 'review' })).toBe(false);
    expect(needsJustification({ status: 'fail' })).toBe(true);
  });

  it('needs at least one item ticked', () => {
    const items = state().items.map(item => ({ ...item, send: false }));
    expect(submitProblems(state({ items }))).toEqual(['Tick at least one item to send.']);
    expect(canSubmit(state({ items: [] }))).toBe(false);
  });

  it('tells every problem at once', () => {
    const items = [{ name: 'u.csv', status: 'fail' as const, send: true, justification: '' }];
    expect(submitProblems(state({ title: '', items }))).toEqual([
      'Give the request a title.',
      'u.csv failed the check: justify it to send it.'
    ]);
  });
});

describe('the bodies sent', () => {
  it('sends the ticked items, with their justification when there is one', () => {
    expect(
      requestBody('  Table 2 ', [
        { source: { path: 't.csv' }, send: true, justification: '' },
        { source: { path: 'a.ipynb', cells: ['c1'] }, send: true, justification: ' rounded ' },
        { source: { path: 'u.csv' }, send: false, justification: 'not sent' }
      ])
    ).toEqual({
      title: 'Table 2',
      items: [{ path: 't.csv' }, { path: 'a.ipynb', cells: ['c1'], justification: 'rounded' }]
    });
  });

  it('resubmits only the justifications that changed', () => {
    const items = [
      { name: 't.csv', justification: 'old' },
      { name: 'u.csv', justification: null },
      { name: 'v.csv', justification: 'same' },
      { name: 'w.csv', justification: 'kept' }
    ];
    expect(
      resubmitBody(items, { 't.csv': ' new ', 'u.csv': 'first', 'v.csv': 'same ', 'w.csv': '  ' })
    ).toEqual({ justifications: { 't.csv': 'new', 'u.csv': 'first' } });
    expect(resubmitBody(items, {})).toEqual({});
  });
});

describe('the grid of a checked table', () => {
  const table = {
    header: ['sex', 'age band', 'n'],
    labels: 2,
    rows: [
      {
        cells: [
          { value: 'F', flags: [] },
          { value: '40-49', flags: [] },
          { value: '7', flags: ['threshold: 1 cell with fewer than 11 units', 'dominance'] }
        ]
      },
      {
        cells: [
          { value: 'M', flags: [] },
          { value: '40-49', flags: [] },
          { value: '120', flags: [] }
        ]
      }
    ],
    truncated: false
  };

  it('marks the label columns and the flagged cells, with their reasons', () => {
    const grid = gridModel(table);
    expect(grid.header).toEqual([
      { value: 'sex', label: true },
      { value: 'age band', label: true },
      { value: 'n', label: false }
    ]);
    expect(grid.rows[0][2]).toEqual({
      value: '7',
      flags: ['threshold: 1 cell with fewer than 11 units', 'dominance'],
      flagged: true,
      label: false,
      title: 'threshold: 1 cell with fewer than 11 units\ndominance'
    });
    expect(grid.rows[0][0]).toMatchObject({ flagged: false, label: true, title: '' });
    expect(grid.rows[1][2]).toMatchObject({ value: '120', flagged: false, label: false });
    expect(grid.flagged).toBe(1);
    expect(grid.note).toBe('1 cell is flagged.');
    expect(grid.truncated).toBe(false);
  });

  it('counts the flagged cells and says when rows were left out', () => {
    const many = {
      ...table,
      truncated: true,
      rows: [table.rows[0], table.rows[0], table.rows[1]]
    };
    const grid = gridModel(many);
    expect(grid.flagged).toBe(2);
    expect(grid.note).toBe('2 cells are flagged. Only the first rows are shown here.');
  });

  it('says when nothing is flagged, and bears a cell without flags', () => {
    const plain = {
      header: [],
      labels: 0,
      rows: [{ cells: [{ value: '1' } as { value: string; flags: string[] }] }],
      truncated: false
    };
    const grid = gridModel(plain);
    expect(grid.rows[0][0]).toEqual({
      value: '1',
      flags: [],
      flagged: false,
      label: false,
      title: ''
    });
    expect(grid.note).toBe('No cell is flagged.');
  });
});

describe('error messages', () => {
  it('shows the server\u2019s message', () => {
    const body = JSON.stringify({ error: 'sidecar', message: 'Send the output, not its sidecar.' });
    expect(errorMessage(400, 'Bad Request', body)).toBe('Send the output, not its sidecar.');
    expect(errorCode(400, body)).toBe('sidecar');
  });

  it('falls back on the status when the body has no message', () => {
    expect(errorMessage(502, 'Bad Gateway', '<html>proxy</html>')).toBe(
      'The workspace server answered 502 Bad Gateway.'
    );
    expect(errorMessage(500, '', '')).toBe('The workspace server answered 500.');
    expect(errorMessage(500, '', '{"message": "  "}')).toBe('The workspace server answered 500.');
    expect(errorMessage(500, '', '{"message": 3}')).toBe('The workspace server answered 500.');
    expect(errorMessage(500, '', 'null')).toBe('The workspace server answered 500.');
    expect(errorMessage(500, '', '"text"')).toBe('The workspace server answered 500.');
    expect(errorCode(404, '<html/>')).toBe('http-404');
    expect(errorCode(404, '{"message": "gone"}')).toBe('http-404');
  });

  it('describes anything thrown', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError(new Error(''))).toBe('Something went wrong.');
    expect(describeError('plain')).toBe('plain');
    expect(describeError('')).toBe('Something went wrong.');
    expect(describeError(undefined)).toBe('Something went wrong.');
  });
});

describe('the panel', () => {
  it('lists the newest request first, undated ones last, ties by id', () => {
    const list = [
      { id: 'a', created_at: '2026-05-01T10:00:00Z' },
      { id: 'b', created_at: '2026-05-03T10:00:00Z' },
      { id: 'c', created_at: 'not a date' },
      { id: 'd', created_at: '2026-05-02T10:00:00Z' },
      { id: 'e', created_at: '2026-05-02T10:00:00Z' },
      { id: 'e', created_at: '2026-05-02T10:00:00Z' },
      { id: 'f', created_at: '' }
    ];
    expect(newestFirst(list).map(r => r.id)).toEqual(['b', 'e', 'e', 'd', 'a', 'f', 'c']);
    expect(list[0].id).toBe('a'); // the list given is left as it was
    const at = '2026-05-02T10:00:00Z';
    const tie = [
      { id: 'x', created_at: at },
      { id: 'y', created_at: at }
    ];
    expect(newestFirst(tie).map(r => r.id)).toEqual(['y', 'x']);
    expect(newestFirst([...tie].reverse()).map(r => r.id)).toEqual(['y', 'x']);
  });

  it('formats a time in the browser\u2019s zone (UTC in these tests)', () => {
    expect(formatTime('2026-05-01T09:05:00Z')).toBe('2026-05-01 09:05');
    expect(formatTime('2026-12-31T23:59:59+00:00')).toBe('2026-12-31 23:59');
    expect(formatTime(null)).toBe('');
    expect(formatTime(undefined)).toBe('');
    expect(formatTime('yesterday')).toBe('');
  });

  it('polls only while shown and not already loading', () => {
    expect(shouldPoll(true, false)).toBe(true);
    expect(shouldPoll(false, false)).toBe(false);
    expect(shouldPoll(true, true)).toBe(false);
  });
});
