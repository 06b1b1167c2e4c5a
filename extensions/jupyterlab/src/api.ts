/**
 * The client of the workspace server's export API. It is given the function that sends a
 * request (in JupyterLab: ``ServerConnection.makeRequest``, which carries the page's own
 * authentication and XSRF token), so that it runs, and is tested, without JupyterLab.
 */

import { describeError, errorCode, errorMessage } from './model';
import type {
  IChecked,
  IRequest,
  ISource,
  IStatus,
  ISubmitItem,
  ISummary
} from './types';

/** What the client reads of an answer (a subset of the Fetch API's ``Response``). */
export interface IResponseLike {
  ok: boolean;
  status: number;
  statusText: string;
  text(): Promise<string>;
}

/** Sends ``init`` to ``path``, relative to ``<base url>/agoria-tre/export/``. */
export type Send = (path: string, init: RequestInit) => Promise<IResponseLike>;

/** An error answer (or none at all), with the sentence to show the user. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class ExportApi {
  constructor(private readonly send: Send) {}

  /** The workspace's project and user, and where the airlock is. */
  status(): Promise<IStatus> {
    return this.call('status');
  }

  /** Runs the disclosure checker here, on what would be sent, before anything leaves. */
  async check(items: ISource[]): Promise<IChecked[]> {
    const answer = await this.call<{ items: IChecked[] }>('check', 'POST', { items });
    return answer.items;
  }

  /** Creates the request, uploads its items and submits it for review. */
  submit(body: { title: string; items: ISubmitItem[] }): Promise<IRequest> {
    return this.call('requests', 'POST', body);
  }

  /** This user's requests for this workspace's project. */
  async list(): Promise<ISummary[]> {
    const answer = await this.call<{ requests: ISummary[] }>('requests');
    return answer.requests;
  }

  get(id: string): Promise<IRequest> {
    return this.call(`requests/${encodeURIComponent(id)}`);
  }

  /** Reads a returned request's files again from where they were taken, and resubmits it. */
  resubmit(id: string, body: { justifications?: Record<string, string> }): Promise<IRequest> {
    return this.call(`requests/${encodeURIComponent(id)}/resubmit`, 'POST', body);
  }

  withdraw(id: string): Promise<IRequest> {
    return this.call(`requests/${encodeURIComponent(id)}/withdraw`, 'POST', {});
  }

  private async call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    let response: IResponseLike;
    let text: string;
    try {
      response = await this.send(path, init);
      text = await response.text();
    } catch (error) {
      throw new ApiError(
        `The workspace server could not be reached: ${describeError(error)}`,
        0,
        'network'
      );
    }
    if (!response.ok) {
      throw new ApiError(
        errorMessage(response.status, response.statusText, text),
        response.status,
        errorCode(response.status, text)
      );
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        `The workspace server's answer could not be read (${response.status}).`,
        response.status,
        'bad-answer'
      );
    }
  }
}
