/**
 * The explorer in a real browser (Debian's headless Chromium driven by playwright-core) against
 * the real federation: switch roles, run the trajectory example, see field-level access at work.
 * Every request the page makes is checked: nothing may leave localhost.
 */
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PATIENT_ID } from '@ketengraph/explorer';
import { loadGatewayConfig } from '@ketengraph/gateway';
import { provider as treatingProvider } from './support/actors.js';
import { startFederation, TEST_ISSUER, type Federation, type GraphQLResponse } from './support/federation.js';
import { principal } from './support/scenario.js';

const ARTIFACTS = new URL('./artifacts/', import.meta.url);
const CHROMIUM = '/usr/bin/chromium';

describe('explorer in headless Chromium', () => {
  let federation: Federation;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  const attempted: string[] = [];
  const blocked: string[] = [];

  const isLocal = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

  /** The gateway's `ketengraph_subscriptions_open` gauge, as /metrics reports it. */
  async function openSubscriptions(): Promise<number> {
    const text = await (await fetch(`${origin}/metrics`)).text();
    const line = text.split('\n').find((row) => row.startsWith('ketengraph_subscriptions_open '));
    return Number(line?.split(' ')[1] ?? 0);
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    federation = await startFederation();
    origin = new URL(federation.gateway.url).origin;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    // Block (and record) every request that would leave localhost: page, workers and WebSockets.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('data:') || url.startsWith('blob:') || isLocal(url)) return route.continue();
      blocked.push(url);
      return route.abort('blockedbyclient');
    });
    await context.routeWebSocket(
      () => true,
      (ws) => {
        if (isLocal(ws.url())) return ws.connectToServer();
        blocked.push(ws.url());
        return ws.close();
      },
    );
    page = await context.newPage();
    page.on('request', (request) => attempted.push(request.url()));
    page.on('websocket', (ws) => attempted.push(ws.url()));
    page.on('worker', (worker) => attempted.push(worker.url()));
  });

  afterAll(async () => {
    await browser?.close();
    await federation?.close();
  });

  /** Runs the operation in the active tab; resolves with the response the explorer received. */
  async function run(operationName: string): Promise<{ body: GraphQLResponse<any>; authorization: string }> {
    const response = page.waitForResponse((candidate) => {
      const request = candidate.request();
      return (
        request.method() === 'POST' &&
        new URL(request.url()).pathname === '/graphql' &&
        (request.postData() ?? '').includes(`"operationName":"${operationName}"`)
      );
    });
    await page.locator('.graphiql-execute-button').click();
    const received = await response;
    return { body: (await received.json()) as GraphQLResponse<any>, authorization: (await received.request().headerValue('authorization')) ?? '' };
  }

  async function switchRole(user: string): Promise<void> {
    await page.locator('select[name="role"]').selectOption(user);
    await page.locator(`.explorer-bar[data-user="${user}"][data-token-state="ready"]`).waitFor();
  }

  /** What an editor shows (Monaco renders spaces as no-break spaces). */
  const editorText = async (selector: string) => (await page.locator(selector).innerText()).replaceAll('\u00a0', ' ');

  const claims = (authorization: string) =>
    JSON.parse(Buffer.from(authorization.replace(/^Bearer /, '').split('.')[1]!, 'base64url').toString('utf8')) as { role: string; org: string };

  it('opens on the trajectory example ready to run, with documentation, autocomplete and query builder from the schema', async () => {
    await page.goto(`${origin}/explorer`);
    await page.locator('.graphiql-container').waitFor();
    await page.locator('.explorer-bar[data-token-state="ready"]').waitFor();

    // The opening tab runs as it loads: its variables are there (the first sample user is the placement officer).
    await expect.poll(() => editorText('.graphiql-query-editor')).toContain('query PatientTrajectory');
    await expect.poll(() => editorText('.graphiql-editor-tool .graphiql-editor:not(.hidden)')).toContain(EXAMPLE_PATIENT_ID);
    const opening = await run('PatientTrajectory');
    expect(opening.body.errors).toBeUndefined();
    expect(opening.body.data?.patient?.id).toBe(EXAMPLE_PATIENT_ID);

    // Documentation: the schema was introspected through the gateway, its types are listed.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer').getByText('All Schema Types').waitFor();
    const docs = await page.locator('.graphiql-doc-explorer').innerText();
    for (const type of ['Query', 'Mutation', 'Subscription', 'Patient', 'Placement', 'Provider', 'ForensicCv']) expect(docs).toContain(type);
    await page.locator('.graphiql-doc-explorer').getByText('Patient', { exact: true }).first().click();
    await expect.poll(() => page.locator('.graphiql-doc-explorer').innerText()).toContain('trajectories');

    // The query builder offers the root fields.
    await page.getByRole('button', { name: 'Show GraphiQL Explorer' }).click();
    await expect.poll(() => page.locator('.graphiql-explorer-root').innerText()).toContain('patientByBsn');

    // Autocomplete in a tab of its own: the editor suggests fields of the schema.
    const tabCount = await page.locator('.graphiql-tab').count();
    await page.getByRole('button', { name: 'New tab' }).click();
    await expect.poll(() => page.locator('.graphiql-tab').count()).toBe(tabCount + 1);
    await page.locator('.graphiql-query-editor .monaco-editor').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{ patientBy');
    await page.keyboard.press('Control+Space');
    await expect
      .poll(() => page.locator('.graphiql-query-editor .suggest-widget .monaco-list-row').allInnerTexts())
      .toContainEqual(expect.stringContaining('patientByBsn'));
    await page.keyboard.press('Escape');
    await page.screenshot({ path: new URL('explorer-autocomplete.png', ARTIFACTS).pathname });

    // An example opens in its tab: clicking it again (or the opening one) opens no duplicate.
    await page.getByRole('button', { name: 'Show Voorbeelden (examples)' }).click();
    await page.locator('[data-example="FreeCapacity"]').click();
    await page.locator('[data-example="FreeCapacity"]').click();
    await page.locator('[data-example="PatientTrajectory"]').click();
    expect(await page.locator('.graphiql-tab').count()).toBe(tabCount + 1);
  });

  it('a provider sees the trajectory with identity withheld; the placement officer sees the same field granted and follows placement changes', async () => {
    // Documentation, history and the query builder are there, next to the examples.
    for (const plugin of ['Documentation Explorer', 'History', 'GraphiQL Explorer']) await page.getByRole('button', { name: `Show ${plugin}` }).waitFor();

    await switchRole('zorgaanbieder-met-patienten');
    if (!(await page.locator('[data-example="PatientTrajectory"]').isVisible()))
      await page.getByRole('button', { name: 'Show Voorbeelden (examples)' }).click();
    await page.locator('[data-example="PatientTrajectory"]').click();
    await expect.poll(() => editorText('.graphiql-query-editor')).toContain('query PatientTrajectory');

    const asProvider = await run('PatientTrajectory');
    expect(claims(asProvider.authorization)).toMatchObject({ role: 'zorgaanbieder' });
    // Data: the patient is there, its identity withheld and reported with its path.
    expect(asProvider.body.data?.patient?.id).toBe(EXAMPLE_PATIENT_ID);
    expect(asProvider.body.data?.patient?.name).toBeNull();
    const withheld = asProvider.body.errors?.find((error) => error.path?.join('.') === 'patient.name');
    expect(withheld?.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    // ... and the explorer shows it.
    await expect.poll(() => editorText('.result-window')).toContain('UNAUTHORIZED_FIELD_OR_TYPE');
    await page.screenshot({ path: new URL('explorer-provider.png', ARTIFACTS).pathname, fullPage: false });

    await switchRole('plaatser');
    const asPlacementOfficer = await run('PatientTrajectory');
    expect(claims(asPlacementOfficer.authorization)).toMatchObject({ role: 'plaatser' });
    expect(asPlacementOfficer.body.data?.patient?.name?.full).toEqual(expect.any(String));
    expect(asPlacementOfficer.body.errors?.some((error) => error.path?.join('.') === 'patient.name') ?? false).toBe(false);
    expect(asPlacementOfficer.body.data?.patient?.trajectories?.edges?.length).toBeGreaterThan(0);
    await expect.poll(() => editorText('.result-window')).toContain(asPlacementOfficer.body.data.patient.name.full);
    await page.screenshot({ path: new URL('explorer-placement-officer.png', ARTIFACTS).pathname, fullPage: false });

    // The placement subscription runs in the explorer over graphql-ws on /graphql: a change made
    // elsewhere appears in its result pane.
    const plaatsing = federation.subgraphs.plaatsing.prisma as any; // fixture lookup, not API use
    const admitted = await plaatsing.placement.findFirst({
      where: { status: 'ADMITTED', admittedAt: { lt: new Date(Date.now() - 86_400_000) } },
      orderBy: { id: 'asc' },
    });
    const openBefore = await openSubscriptions();
    const socket = page.waitForEvent('websocket', (ws) => new URL(ws.url()).pathname === '/graphql');
    await page.locator('[data-example="PlacementChanged"]').click();
    await expect.poll(() => editorText('.graphiql-query-editor')).toContain('subscription PlacementChanged');
    await page.locator('.graphiql-execute-button').click();
    const ws = await socket;
    await ws.waitForEvent('framereceived', (frame) => String(frame.payload).includes('"connection_ack"'));
    await ws.waitForEvent('framesent', (frame) => String(frame.payload).includes('"subscribe"'));
    // The stream starts "from now" once the gateway has opened it (checked access, read the log's
    // head); a change made before that is not a change the subscriber asked to follow.
    await expect.poll(openSubscriptions, { timeout: 20_000 }).toBeGreaterThan(openBefore);
    const ended = await federation.request<{ endPlacement: { status: string } }>(
      'mutation($id: ID!, $on: Date!) { endPlacement(placementId: $id, endedOn: $on, reason: "Ontslag na behandeling") { status } }',
      { id: admitted.id, on: new Date().toISOString().slice(0, 10) },
      { principal: treatingProvider(admitted.providerId) }, // the treating provider discharges (the write rules)
    );
    expect(ended.errors).toBeUndefined();
    await expect.poll(() => editorText('.result-window'), { timeout: 20_000 }).toContain(admitted.id);
    expect(await editorText('.result-window')).toContain('"toStatus": "ENDED"');
    await page.screenshot({ path: new URL('explorer-subscription.png', ARTIFACTS).pathname });

    // What ran is in the history.
    await page.getByRole('button', { name: 'Show History' }).click();
    await expect.poll(() => page.locator('.graphiql-history').innerText()).toContain('PatientTrajectory');

    // The editor's language services ran in their workers, served by the gateway.
    expect(attempted.some((url) => /\/explorer\/assets\/graphql\.worker-/.test(url))).toBe(true);
    expect(blocked).toEqual([]);
    expect(attempted.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && !isLocal(url))).toEqual([]);
  });

  it('in production (enabled explicitly) mints nothing: the user pastes a token from the identity provider and runs the trusted examples', async () => {
    const external = { ...loadGatewayConfig({}).callerTokens, issuer: TEST_ISSUER, keys: { source: 'jwks' as const, jwks: federation.keys.issuer.jwks } };
    // Production's exposure: no introspection, only trusted documents (the examples are among them).
    const exposure = loadGatewayConfig({ NODE_ENV: 'production' }).exposure;
    const production = await federation.startGateway({ production: true, callerTokens: external, explorer: { enabled: true }, exposure });
    const productionPage = await context.newPage();
    const requested: string[] = [];
    productionPage.on('request', (request) => requested.push(new URL(request.url()).pathname));
    try {
      await productionPage.goto(`${new URL(production.url).origin}/explorer`);
      await productionPage.locator('.graphiql-container').waitFor();
      expect(await productionPage.locator('select[name="role"]').count()).toBe(0);
      const token = await federation.callerToken(principal('inspectie', 'igj'));
      await productionPage.locator('input[name="token"]').fill(token);
      await productionPage.locator('.explorer-bar[data-token-state="ready"]').waitFor();
      await productionPage.getByRole('button', { name: 'Show Voorbeelden (examples)' }).click();
      await productionPage.locator('[data-example="FreeCapacity"]').click();
      const response = productionPage.waitForResponse((candidate) => (candidate.request().postData() ?? '').includes('"operationName":"FreeCapacity"'));
      await productionPage.locator('.graphiql-execute-button').click();
      const received = await response;
      expect(await received.request().headerValue('authorization')).toBe(`Bearer ${token}`);
      const body = (await received.json()) as GraphQLResponse<{ freeCapacity: { freePlaces: number }[] }>;
      expect(body.errors).toBeUndefined();
      expect(body.data!.freeCapacity.length).toBeGreaterThan(0);
      expect(requested).not.toContain('/explorer/dev-token');
      expect(blocked).toEqual([]);
    } finally {
      await productionPage.close();
      await production.close();
    }
  });
});
