/**
 * Test helpers: a tiny cookie-keeping HTTP client for the dashboard (what a browser does with
 * the session cookie and the CSRF token), used by the server and browser tests.
 */
export class DashboardClient {
  private cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async request(pathname: string, init: { method?: string; form?: Record<string, string | string[]>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(init.form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
      body = p.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(new URL(pathname, this.baseUrl), { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const [k, v] = [pair!.slice(0, i), pair!.slice(i + 1)];
      if (v === '' || /max-age=0/i.test(c) || /expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return res;
  }

  /** The CSRF token a page carries (its <meta name="csrf-token">). */
  async csrfToken(pathname = '/login'): Promise<string> {
    const html = await (await this.request(pathname)).text();
    const m = /<meta name="csrf-token" content="([^"]+)">/.exec(html);
    if (!m) throw new Error(`no CSRF token on ${pathname}`);
    return m[1]!;
  }

  async login(name: string, password: string): Promise<Response> {
    const token = await this.csrfToken('/login');
    return this.request('/login', { form: { _csrf: token, name, password, next: '/' } });
  }
}
