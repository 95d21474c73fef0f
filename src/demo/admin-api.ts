/** A small client for the Node-RED admin HTTP API (no adminAuth: the demo and tests run on 127.0.0.1 only). */
export class NodeRedAdmin {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    return fetch(this.baseUrl + path, init);
  }

  async getJson<T = unknown>(path: string, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.request('GET', path, undefined, { accept: 'application/json', ...headers });
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  }

  async getText(path: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; text: string }> {
    const response = await this.request('GET', path, undefined, headers);
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
  }

  /** Full deploy of `flows` (node objects may carry a `credentials` property, as the editor sends them). */
  async deploy(flows: unknown[]): Promise<void> {
    const response = await this.request('POST', '/flows', flows, { 'Node-RED-Deployment-Type': 'full' });
    if (!response.ok) throw new Error(`POST /flows answered ${response.status}: ${await response.text()}`);
  }

  /** Press an inject node's button, as the editor does. */
  async inject(nodeId: string): Promise<void> {
    const response = await this.request('POST', `/inject/${encodeURIComponent(nodeId)}`);
    if (!response.ok) throw new Error(`POST /inject/${nodeId} answered ${response.status}: ${await response.text()}`);
  }
}
