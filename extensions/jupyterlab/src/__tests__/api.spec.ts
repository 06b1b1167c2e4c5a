import { ApiError, ExportApi, IResponseLike } from '../api';

interface ISent {
  path: string;
  init: RequestInit;
}

/** An API whose every request is recorded and answered with ``answer``. */
function fake(answer: Partial<IResponseLike> & { body?: string }) {
  const sent: ISent[] = [];
  const api = new ExportApi(async (path, init) => {
    sent.push({ path, init });
    return {
      ok: answer.ok ?? true,
      status: answer.status ?? 200,
      statusText: answer.statusText ?? 'OK',
      text: answer.text ?? (async () => answer.body ?? '')
    };
  });
  return { api, sent };
}

const json = (value: unknown) => JSON.stringify(value);

describe('the export API client', () => {
  it('reads the status with a GET', async () => {
    const status = { project: 'demo-eap', user: 'alice', airlock_url: '/services/airlock/' };
    const { api, sent } = fake({ body: json(status) });
    await expect(api.status()).resolves.toEqual(status);
    expect(sent).toEqual([{ path: 'status', init: { method: 'GET' } }]);
  });

  it('posts the sources to check, as JSON, and returns the checked items', async () => {
    const items = [{ source: { path: 't.csv' }, name: 't.csv', status: 'pass' }];
    const { api, sent } = fake({ body: json({ items }) });
    await expect(api.check([{ path: 't.csv' }])).resolves.toEqual(items);
    expect(sent[0].path).toBe('check');
    expect(sent[0].init.method).toBe('POST');
    expect(sent[0].init.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(JSON.parse(sent[0].init.body as string)).toEqual({ items: [{ path: 't.csv' }] });
  });

  it('submits, lists, reads, resubmits and withdraws at their own paths', async () => {
    const { api, sent } = fake({ status: 201, body: json({ id: 'r/1', requests: [] }) });
    await api.submit({ title: 'T', items: [{ path: 't.csv', justification: 'j' }] });
    await expect(api.list()).resolves.toEqual([]);
    await api.get('r/1');
    await api.resubmit('r/1', { justifications: { 't.csv': 'new' } });
    await api.withdraw('r/1');
    expect(sent.map(s => [s.init.method, s.path])).toEqual([
      ['POST', 'requests'],
      ['GET', 'requests'],
      ['GET', 'requests/r%2F1'],
      ['POST', 'requests/r%2F1/resubmit'],
      ['POST', 'requests/r%2F1/withdraw']
    ]);
    expect(JSON.parse(sent[0].init.body as string)).toEqual({
      title: 'T',
      items: [{ path: 't.csv', justification: 'j' }]
    });
    expect(JSON.parse(sent[3].init.body as string)).toEqual({
      justifications: { 't.csv': 'new' }
    });
    expect(sent[1].init.body).toBeUndefined();
  });

  it('throws the server\u2019s message and code on an error answer', async () => {
    const { api } = fake({
      ok: false,
      status: 409,
      statusText: 'Conflict',
      body: json({ error: 'not-returned', message: 'Only a returned request can be resubmitted.' })
    });
    const error = await api.resubmit('r1', {}).catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe('Only a returned request can be resubmitted.');
    expect(error.status).toBe(409);
    expect(error.code).toBe('not-returned');
    expect(error.name).toBe('ApiError');
  });

  it('says so when the server cannot be reached', async () => {
    const api = new ExportApi(async () => {
      throw new TypeError('Failed to fetch');
    });
    const error = await api.list().catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe('The workspace server could not be reached: Failed to fetch');
    expect(error.status).toBe(0);
    expect(error.code).toBe('network');
  });

  it('says so when the answer breaks off', async () => {
    const { api } = fake({
      text: async () => {
        throw new Error('the connection was reset');
      }
    });
    await expect(api.status()).rejects.toThrow(
      'The workspace server could not be reached: the connection was reset'
    );
  });

  it('refuses a success answer that is not JSON', async () => {
    const { api } = fake({ body: '<html>login</html>' });
    const error = await api.status().catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe("The workspace server's answer could not be read (200).");
    expect(error.code).toBe('bad-answer');
  });
});
