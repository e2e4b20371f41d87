import { html, type Html } from '../html.js';
import type { SessionIdentity } from '../auth.js';

export const NAV = [
  ['/', 'Overview'],
  ['/studies', 'Studies'],
  ['/dead-letters', 'Dead letters'],
  ['/destinations', 'Destinations'],
  ['/model', 'Model'],
  ['/audit', 'Audit'],
] as const;

export interface PageContext {
  user: SessionIdentity | null;
  csrfToken: string;
  path: string;
  flash?: string | null;
}

/**
 * The page shell: skip link, navigation with aria-current, the signed-in user, and the live
 * connection (htmx's SSE extension) that sections subscribe to with hx-trigger="sse:change".
 */
export function layout(ctx: PageContext, title: string, body: Html): Html {
  const current = (href: string) => (href === '/' ? ctx.path === '/' : ctx.path.startsWith(href));
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false, "historyCacheSize": 0}'>
<meta name="csrf-token" content="${ctx.csrfToken}">
<title>${title} · LDH triage</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/htmx.min.js"></script>
<script src="/static/sse.js"></script>
</head>
<body hx-headers='${JSON.stringify({ 'x-csrf-token': ctx.csrfToken })}'>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">LDH triage</span>
  ${ctx.user
    ? html`<nav aria-label="Main"><ul>${NAV.map(([href, label]) => html`<li><a href="${href}"${current(href) ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul></nav>
  <form class="who" method="post" action="/logout"><input type="hidden" name="_csrf" value="${ctx.csrfToken}"><span>${ctx.user.name} <span class="role">(${ctx.user.role})</span></span> <button type="submit">Sign out</button></form>`
    : ''}
</header>
<p class="notice" role="note">Research software, not a medical device. The model was trained on synthetic phantoms only.</p>
<main id="main" tabindex="-1"${ctx.user ? html` hx-ext="sse" sse-connect="/events"` : ''}>
${ctx.flash ? html`<p class="flash" role="status">${ctx.flash}</p>` : ''}
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A section that re-renders from `fragmentUrl` whenever the server pushes a change. */
export function liveSection(id: string, fragmentUrl: string, inner: Html, label: string): Html {
  return html`<section id="${id}" aria-label="${label}" aria-live="polite" hx-get="${fragmentUrl}" hx-trigger="sse:change" hx-swap="innerHTML">${inner}</section>`;
}

export function loginPage(ctx: PageContext, opts: { error?: string; name?: string; next?: string }): Html {
  return layout(
    ctx,
    'Sign in',
    html`<form class="login" method="post" action="/login">
  ${opts.error ? html`<p class="error" role="alert" id="login-error">${opts.error}</p>` : ''}
  <input type="hidden" name="_csrf" value="${ctx.csrfToken}">
  <input type="hidden" name="next" value="${opts.next ?? '/'}">
  <label for="name">User name</label>
  <input id="name" name="name" autocomplete="username" required value="${opts.name ?? ''}" autofocus${opts.error ? html` aria-describedby="login-error"` : ''}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>`,
  );
}
