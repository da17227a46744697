// console.spec.mjs - drives the wirewatch web console in a real browser
// (Debian's chromium, headless, through playwright-core). Started by
// tests/e2e/test_console_browser.c, which runs a pipeline with an archive and
// the console, and passes:
//   WW_CONSOLE_URL  the console's base URL
//   WW_WIREWATCH    the wirewatch binary (to publish events)
//   WW_CONFIG       the pipeline's config file
//   WW_TMP          a scratch directory
// Publishes events, sees the alerts appear live, filters, opens one, checks
// the highlighted entities and the explanation, runs a backtest through the
// form. Exit 0 on success, 1 on failure (a screenshot is left in WW_TMP).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const url = process.env.WW_CONSOLE_URL;
const tmp = process.env.WW_TMP || '/tmp';
const step = (s) => console.log('browser: ' + s);
function check(cond, what) { if (!cond) throw new Error('check failed: ' + what); }

function publish(lines) {
  const f = join(tmp, 'browser-events.jsonl');
  writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  execFileSync(process.env.WW_WIREWATCH, ['publish', f, '-c', process.env.WW_CONFIG], { stdio: 'inherit' });
}

const browser = await chromium.launch({
  executablePath: process.env.WW_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
// the console's Content-Security-Policy forbids eval, which playwright's
// waitForFunction uses: the test's own scripts bypass it (the page's do not)
const context = await browser.newContext({ bypassCSP: true });
const page = await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
page.on('requestfailed', (r) => { if (!r.url().includes('/api/stream')) problems.push('request failed: ' + r.url()); });
let rc = 0;
try {
  step('open ' + url);
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('live-status').textContent === 'live', null, { timeout: 15000 });

  step('publish events; alerts must appear live');
  publish([
    { title: 'Volcano erupts near Reykjavik <img src=x onerror="window.__pwned=1">',
      body: 'Angela Merkel said the Icelandic Met Office in Reykjavik warned on Monday.', url: 'https://b.example/1' },
    { title: 'Farm report', body: 'The wheat harvest began early in Kansas.', url: 'https://b.example/2' },
  ]);
  await page.waitForFunction(() => document.querySelectorAll('#alert-rows tr.alert').length >= 2, null, { timeout: 20000 });
  const titles = await page.$$eval('#alert-rows td.title a', (as) => as.map((a) => a.textContent));
  check(titles.some((t) => t.includes('<img src=x')), 'the hostile title is shown as text: ' + JSON.stringify(titles));
  check(await page.$$eval('#alert-rows img', (x) => x.length) === 0, 'no element injected by a title');
  check(await page.evaluate(() => window.__pwned === undefined), 'no script ran from a title');

  step('filter by text and severity (client side for live rows, server side for pages)');
  await page.fill('#f-q', 'farm');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#alert-rows tr.alert')];
    return rows.length === 1 && rows[0].textContent.includes('Farm report');
  }, null, { timeout: 10000 });
  await page.fill('#f-q', '');
  await page.selectOption('#f-severity', 'high');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#alert-rows tr.alert')];
    return rows.length === 1 && rows[0].textContent.includes('Volcano');
  }, null, { timeout: 10000 });
  await page.selectOption('#f-severity', '');
  await page.waitForFunction(() => document.querySelectorAll('#alert-rows tr.alert').length >= 2, null, { timeout: 10000 });

  step('a new alert while filtered view is live');
  publish([{ title: 'Volcanic ash over Reykjavik again', body: 'Flights from Reykjavik were cancelled.', url: 'https://b.example/3' }]);
  await page.waitForFunction(() => document.querySelectorAll('#alert-rows tr.alert').length >= 3, null, { timeout: 20000 });
  check((await page.textContent('#alert-rows tr.alert')).includes('Volcanic ash'), 'the newest alert is on top');

  step('open the alert: entities highlighted, rule explained');
  await page.click('#alert-rows tr.alert >> text=Volcano erupts');
  await page.waitForSelector('#ev-title mark.ent', { timeout: 15000 });
  const loc = await page.$$eval('#ev-title mark.ent', (ms) => ms.map((m) => [m.dataset.type, m.textContent]));
  check(loc.some(([t, x]) => t === 'LOC' && x === 'Reykjavik'), 'Reykjavik marked as LOC in the title: ' + JSON.stringify(loc));
  const per = await page.$$eval('#ev-body mark.ent-PER', (ms) => ms.map((m) => m.textContent));
  check(per.includes('Angela Merkel'), 'Angela Merkel marked as PER in the body: ' + JSON.stringify(per));
  check((await page.textContent('#ev-title')).includes('<img src=x'), 'the event title is text');
  check(await page.$$eval('#view-event img', (x) => x.length) === 0, 'no element injected in the event view');
  const explain = await page.textContent('#ev-explain');
  check(explain.includes('Reykjavik'), 'the explanation names the entity: ' + explain);
  check((await page.$$eval('#ev-entities tr', (r) => r.length)) >= 3, 'the entity table is filled');

  step('rules page: counts, then a backtest through the form');
  await page.click('#nav-rules');
  await page.waitForSelector('#rules-rows tr.rule', { timeout: 10000 });
  const volcanoAlerts = await page.textContent('#rules-rows tr[data-rule="volcano"] td.alerts');
  check(Number(volcanoAlerts) >= 2, 'the volcano rule counts its alerts: ' + volcanoAlerts);
  await page.fill('#rules-text', "rules:\n  - id: ash\n    channel: test.ash\n    severity: medium\n    match: 'ash OR harvest'\n");
  await page.click('#bt-run');
  await page.waitForFunction(() => document.getElementById('bt-summary').textContent.includes('would have fired'), null, { timeout: 30000 });
  const summary = await page.textContent('#bt-summary');
  check(/ 2 alerts would have fired/.test(summary), 'the backtest finds the two events: ' + summary);
  const bt = await page.$$eval('#bt-alerts tr.bt-alert', (rs) => rs.map((r) => r.textContent));
  check(bt.length === 2 && bt.every((t) => t.includes('ash')), 'the backtest lists what would have fired: ' + JSON.stringify(bt));

  step('trends page draws a chart per entity');
  await page.click('#nav-trends');
  // the extract workers flush entity counts every so often: refresh until they are in
  let names = [];
  for (let i = 0; i < 30 && !names.includes('Reykjavik'); i++) {
    if (i) {
      await page.waitForTimeout(500);
      await page.click('#t-refresh');
      await page.waitForTimeout(200);
    }
    names = await page.$$eval('#trend-most tr.trend td:first-child', (t) => t.map((x) => x.textContent));
  }
  check((await page.$$eval('#trend-most tr.trend svg.spark polyline', (p) => p.length)) >= 1, 'a chart per entity');
  check(names.includes('Reykjavik'), 'Reykjavik is among the most mentioned: ' + JSON.stringify(names));

  check(problems.length === 0, 'no page errors: ' + JSON.stringify(problems));
  step('ok');
} catch (e) {
  console.error('browser: FAILED: ' + e.message);
  if (problems.length) console.error('browser: problems: ' + JSON.stringify(problems));
  try { await page.screenshot({ path: join(tmp, 'console-failure.png'), fullPage: true }); } catch (x) { /* ignore */ }
  rc = 1;
} finally {
  await browser.close();
}
process.exit(rc);
