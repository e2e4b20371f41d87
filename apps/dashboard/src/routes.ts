/**
 * The views (full pages and the fragments their live sections re-fetch) and the admin actions.
 * Reads go through @ldh/ops; actions are audited there with the actor `user:<name>`.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db, StudyState } from '@ldh/db';
import { readPart10 } from '@ldh/dicom';
import { destinationHealth, discardDeliveries, listAudit, listDeliveries, listModels, listStudySummaries, overview, replay, retryStudy, studyDetail, studyFiles, type ListStudiesFilter } from '@ldh/ops';
import { sourceStudyHeader } from '@ldh/sr';
import type { InstanceStore } from '@ldh/storage';
import { actorOf, requireAdmin, requireUser } from './auth.js';
import { html, type Html } from './html.js';
import type { LiveHub } from './live.js';
import { layout, liveSection, type PageContext } from './views/layout.js';
import { overviewFragment, type OverviewData } from './views/overview.js';
import { auditFragment, deadLettersFragment, destinationsFragment, modelFragment } from './views/pages.js';
import { STUDY_STATES, studiesFragment, studyFilterForm, studyFragment, type PatientHeader, type StudyQuery } from './views/studies.js';

export interface ViewDeps {
  db: Db;
  store: InstanceStore;
  live: LiveHub;
  overviewExtras(): Promise<Pick<OverviewData, 'queues' | 'disk'>>;
  stuckAfterMs: number;
}

const HTML = 'text/html; charset=utf-8';

function list(v: unknown): string[] {
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string' && x.length > 0).slice(0, 500);
}

function studyFilter(q: StudyQuery): ListStudiesFilter {
  const date = (v?: string) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00Z`) : undefined);
  const to = date(q.to);
  const from = date(q.from);
  return {
    ...(q.state && (STUDY_STATES as readonly string[]).includes(q.state) ? { state: q.state as StudyState } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to: new Date(to.getTime() + 86_400_000) } : {}),
    ...(q.priority && /^\d{1,3}$/.test(q.priority) ? { priority: Number(q.priority) } : {}),
    ...(q.q?.trim() ? { search: q.q.trim().slice(0, 128) } : {}),
    limit: 200,
  };
}

export async function registerViewRoutes(app: FastifyInstance, deps: ViewDeps): Promise<void> {
  const { db } = deps;
  const ctx = (req: FastifyRequest, reply: FastifyReply): PageContext => {
    const flash = req.session.get('flash') ?? null;
    if (flash) req.session.set('flash', undefined);
    return { user: req.user, csrfToken: reply.generateCsrf(), path: req.url.split('?')[0]!, flash };
  };
  const page = (req: FastifyRequest, reply: FastifyReply, title: string, body: (c: PageContext) => Html) => {
    const c = ctx(req, reply);
    return reply.type(HTML).header('cache-control', 'no-store').send(layout(c, title, body(c)).value);
  };
  const fragment = (reply: FastifyReply, body: Html) => reply.type(HTML).header('cache-control', 'no-store').send(body.value);
  const isAdmin = (req: FastifyRequest) => req.user?.role === 'admin';
  const done = (req: FastifyRequest, reply: FastifyReply, message: string, back: unknown) => {
    req.session.set('flash', message);
    return reply.redirect(typeof back === 'string' && back.startsWith('/') && !back.startsWith('//') ? back : '/dead-letters', 303);
  };

  const overviewData = async (): Promise<OverviewData> => {
    const [ov, destinations, models, extras] = await Promise.all([overview(db, { stuckAfterMs: deps.stuckAfterMs }), destinationHealth(db), listModels(db), deps.overviewExtras()]);
    return { ov, destinations, models, ...extras };
  };
  const deadLetters = async (req: FastifyRequest, csrfToken: string) => {
    const [dead, failed] = await Promise.all([listDeliveries(db, { state: 'dead', limit: 500 }), listStudySummaries(db, { state: 'failed', limit: 500 })]);
    return deadLettersFragment(dead, failed, { admin: isAdmin(req), csrfToken });
  };
  /** Patient name and ID for admins, read from one stored instance on demand (Postgres holds no names). */
  const patientOf = async (studyInstanceUid: string): Promise<PatientHeader | null> => {
    const files = await studyFiles(db, studyInstanceUid);
    if (!files?.instanceKey) return null;
    try {
      const { dataset } = readPart10(await readFile(deps.store.pathOf(files.instanceKey)), { headerOnly: true });
      const h = sourceStudyHeader(dataset, studyInstanceUid);
      return { ...(h.patientName ? { patientName: h.patientName } : {}), ...(h.patientId ? { patientId: h.patientId } : {}) };
    } catch {
      return null;
    }
  };
  const studyBody = async (req: FastifyRequest, uidParam: string, csrfToken: string): Promise<Html | null> => {
    const d = await studyDetail(db, uidParam);
    if (!d) return null;
    return studyFragment(d, { admin: isAdmin(req), patient: isAdmin(req) ? await patientOf(uidParam) : null, csrfToken });
  };

  app.get('/', { preHandler: requireUser }, async (req, reply) => {
    const d = await overviewData();
    return page(req, reply, 'Overview', () => liveSection('overview', '/fragments/overview', overviewFragment(d), 'Overview'));
  });
  app.get('/fragments/overview', { preHandler: requireUser }, async (_req, reply) => fragment(reply, overviewFragment(await overviewData())));

  app.get('/studies', { preHandler: requireUser }, async (req, reply) => {
    const q = req.query as StudyQuery;
    const items = await listStudySummaries(db, studyFilter(q));
    const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => typeof v === 'string' && v) as Array<[string, string]>).toString();
    return page(req, reply, 'Studies', () => html`${studyFilterForm(q)}${liveSection('studies', `/fragments/studies${qs ? `?${qs}` : ''}`, studiesFragment(items), 'Studies')}`);
  });
  app.get('/fragments/studies', { preHandler: requireUser }, async (req, reply) => fragment(reply, studiesFragment(await listStudySummaries(db, studyFilter(req.query as StudyQuery)))));

  app.get('/studies/:uid', { preHandler: requireUser }, async (req, reply) => {
    const { uid } = req.params as { uid: string };
    const c = ctx(req, reply);
    const body = await studyBody(req, uid, c.csrfToken);
    if (!body) return reply.code(404).type(HTML).send(layout(c, 'Study not found', html`<p class="empty">No study ${uid}. <a href="/studies">All studies</a></p>`).value);
    return reply.type(HTML).header('cache-control', 'no-store').send(layout(c, 'Study', liveSection('study', `/fragments/studies/${encodeURIComponent(uid)}`, body, 'Study')).value);
  });
  app.get('/fragments/studies/:uid', { preHandler: requireUser }, async (req, reply) => {
    const body = await studyBody(req, (req.params as { uid: string }).uid, reply.generateCsrf());
    return body ? fragment(reply, body) : reply.code(404).send('no such study');
  });
  // The SR/KOS carry the patient's name and ID: admins only.
  app.get('/studies/:uid/reports/:version/:file', { preHandler: requireAdmin }, async (req, reply) => {
    const { uid, version, file } = req.params as { uid: string; version: string; file: string };
    const r = (await studyFiles(db, uid))?.reports.find((x) => String(x.version) === version);
    const key = file === 'sr.dcm' ? r?.srStorageKey : file === 'kos.dcm' ? r?.kosStorageKey : undefined;
    if (!r || !key) return reply.code(404).send('no such report file');
    const sop = file === 'sr.dcm' ? r.srSopInstanceUid : r.kosSopInstanceUid!;
    return reply
      .type('application/dicom')
      .header('content-disposition', `attachment; filename="${sop}.dcm"`)
      .header('cache-control', 'no-store')
      .send(await readFile(deps.store.pathOf(key)));
  });

  app.get('/dead-letters', { preHandler: requireUser }, async (req, reply) => {
    const c = ctx(req, reply);
    const body = await deadLetters(req, c.csrfToken);
    // Admin pages hold selection forms: re-rendering them live would drop a selection in progress, so only viewers' pages update live.
    return reply.type(HTML).header('cache-control', 'no-store').send(layout(c, 'Dead letters and failures', isAdmin(req) ? html`<p class="muted">Select, then replay, discard (with a reason) or retry. <a href="/dead-letters">Refresh</a></p><div id="dead-letters">${body}</div>` : liveSection('dead-letters', '/fragments/dead-letters', body, 'Dead letters')).value);
  });
  app.get('/fragments/dead-letters', { preHandler: requireUser }, async (req, reply) => fragment(reply, await deadLetters(req, reply.generateCsrf())));

  app.get('/destinations', { preHandler: requireUser }, async (req, reply) => {
    const ds = await destinationHealth(db);
    return page(req, reply, 'Destinations', () => liveSection('destinations', '/fragments/destinations', destinationsFragment(ds), 'Destinations'));
  });
  app.get('/fragments/destinations', { preHandler: requireUser }, async (_req, reply) => fragment(reply, destinationsFragment(await destinationHealth(db))));

  app.get('/model', { preHandler: requireUser }, async (req, reply) => {
    const models = await listModels(db);
    return page(req, reply, 'Model', () => modelFragment(models));
  });

  app.get('/audit', { preHandler: requireUser }, async (req, reply) => {
    const q = req.query as { actor?: string; action?: string; before?: string };
    const before = q.before && /^\d{1,19}$/.test(q.before) ? BigInt(q.before) : undefined;
    const r = await listAudit(db, { ...(q.actor ? { actor: q.actor.slice(0, 128) } : {}), ...(q.action ? { action: q.action.slice(0, 128) } : {}), ...(before !== undefined ? { before } : {}), limit: 50 });
    return page(req, reply, 'Audit', () => auditFragment(r.items, q, r.nextBefore));
  });

  // Actions: CSRF first (403 without a valid token), then the role (403 for viewers).
  const action = { preHandler: [app.csrfProtection, requireAdmin] };
  app.post('/actions/deliveries', action, async (req, reply) => {
    const body = (req.body ?? {}) as { id?: unknown; action?: unknown; reason?: unknown; back?: unknown };
    const ids = list(body.id);
    const actor = actorOf(req.user!);
    if (ids.length === 0) return reply.code(400).type('text/plain').send('select at least one delivery');
    if (body.action === 'replay') {
      const r = await replay(db, { ids }, actor);
      return done(req, reply, `Replayed ${r.replayed.length}${r.skipped.length ? `; skipped ${r.skipped.length}: ${r.skipped.map((s) => s.reason).join('; ')}` : ''}.`, body.back);
    }
    if (body.action === 'discard') {
      const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
      if (!reason) return reply.code(400).type('text/plain').send('a reason is required to discard');
      const r = await discardDeliveries(db, ids, reason, actor);
      return done(req, reply, `Discarded ${r.discarded.length}${r.skipped.length ? `; skipped ${r.skipped.length}: ${r.skipped.map((s) => s.reason).join('; ')}` : ''}.`, body.back);
    }
    return reply.code(400).type('text/plain').send('action must be replay or discard');
  });
  app.post('/actions/retry', action, async (req, reply) => {
    const body = (req.body ?? {}) as { uid?: unknown; back?: unknown };
    const uids = list(body.uid);
    if (uids.length === 0) return reply.code(400).type('text/plain').send('select at least one study');
    const outcomes: string[] = [];
    for (const u of uids) {
      try {
        const r = await retryStudy(db, u, actorOf(req.user!));
        outcomes.push(`${u.slice(-12)}: ${r.from} → ${r.to} (${r.stage})`);
      } catch (err) {
        outcomes.push(`${u.slice(-12)}: ${(err as Error).message}`);
      }
    }
    return done(req, reply, `Retry: ${outcomes.join('; ')}`, body.back);
  });
}
