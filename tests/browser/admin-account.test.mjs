// Journey: manual §1 (login) and §2 (管理员 menu), and the navigation frame.
//
// Log in as admin/admin, be made to change the password, look at 系统说明 and 设置,
// log out, see the old password refused, log in with the new one, switch to English,
// and visit every section of the navigation. Screenshots of each page go to
// target/browser-artifacts/.
//
// Run from the repository root:  node --test tests/browser/
// (needs target/debug/coocenterd or COOCENTERD_BIN, /usr/bin/chromium, and
//  `npm ci` in tests/browser/).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  cleanArtifacts,
  expectAttr,
  expectHash,
  expectText,
  openBrowser,
  screenshot,
  startDaemon,
  stepper,
} from './lib/harness.mjs';

const NEW_PASSWORD = 'Coo-center-2026!';
const CJK = /[\u3400-\u9fff]/;

// The navigation in the manual's order: test id, path, Chinese and English label,
// and the group it sits in (高级设置).
const SECTIONS = [
  { key: 'dashboard', path: '/dashboard', zh: '监控显示', en: 'Monitoring', page: 'dashboard-page' },
  { key: 'agents', path: '/agents', zh: '坐席管理', en: 'Agents', page: 'agents-page' },
  { key: 'queues', path: '/queues', zh: '队列管理', en: 'Queues', page: 'queues-page' },
  { key: 'recordings', path: '/recordings', zh: '录音列表', en: 'Recordings', page: 'recordings-page' },
  { key: 'voicemail', path: '/voicemail', zh: '客户留言', en: 'Voicemail', page: 'voicemail-page' },
  { key: 'oplog', path: '/oplog', zh: '操作日志', en: 'Operation log', page: 'oplog-page' },
  { key: 'prompts', path: '/advanced/prompts', zh: '语音管理', en: 'Voice prompts', group: 'advanced', page: 'prompts-page' },
  { key: 'settings', path: '/advanced/settings', zh: '其他设置', en: 'Other settings', group: 'advanced', page: 'call-flow-page' },
  { key: 'customTable', path: '/advanced/custom-table', zh: '自定义表', en: 'Custom table', group: 'advanced', page: 'custom-table-page' },
  { key: 'mail', path: '/advanced/mail', zh: '邮件通知', en: 'Mail notification', group: 'advanced', page: 'mail-page' },
  { key: 'dataDeletion', path: '/advanced/data-deletion', zh: '删除数据', en: 'Delete data', group: 'advanced', page: 'data-deletion-page' },
  { key: 'manualAdmin', path: '/manual/admin', zh: '管理员手册', en: 'Admin manual', page: 'manual-admin-page' },
  { key: 'manualPbx', path: '/manual/pbx', zh: 'PBX手册', en: 'PBX manual', page: 'manual-pbx-page' },
];
const NAV_ORDER_ZH = ['监控显示', '坐席管理', '队列管理', '录音列表', '客户留言', '操作日志', '高级设置', '语音管理', '其他设置', '自定义表', '邮件通知', '删除数据', 'PBX设置', '管理员手册', 'PBX手册'];
const NAV_ORDER_EN = ['Monitoring', 'Agents', 'Queues', 'Recordings', 'Voicemail', 'Operation log', 'Advanced settings', 'Voice prompts', 'Other settings', 'Custom table', 'Mail notification', 'Delete data', 'PBX settings', 'Admin manual', 'PBX manual'];

let daemon;
let session;

before(async () => {
  await cleanArtifacts();
  daemon = await startDaemon('admin-account');
  session = await openBrowser();
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
});

test('admin account journey (manual §1, §2, navigation)', { timeout: 240_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page);
  const byId = (id) => page.getByTestId(id);
  const navLabels = async () =>
    (await page.locator('.sidebar .nav-link .nav-label').allInnerTexts()).map((s) => s.trim());
  const passwordPosts = () => log.api.filter((r) => r.method === 'POST' && r.path === '/api/v1/account/password').length;

  async function login(username, password) {
    await page.locator('#login-username').fill(username);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-submit').click();
  }

  async function openAdminMenu() {
    await byId('admin-menu').click();
    await byId('admin-menu-pop').waitFor({ state: 'visible' });
  }

  await step('the login page is served under the strict CSP, in Chinese', async () => {
    const response = await page.goto(daemon.url);
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/, 'index.html must be served with the CSP');
    assert.match(csp, /style-src 'self'/);
    await expectHash(page, '#/login');
    await expectText(byId('product-name'), 'CooCenter 呼叫中心');
    await expectText(page.locator('#login-submit'), '登录');
    await expectText(page.locator('label[for=login-username]'), '用户名 / 工号 / 分机');
    await expectText(page.locator('label[for=login-password]'), '密码');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    await screenshot(page, 'login.png');
  });

  await step('empty fields are refused before asking the server', async () => {
    const before = log.api.length;
    await page.locator('#login-submit').click();
    await expectText(byId('login-error'), '请输入用户名和密码。');
    assert.equal(log.api.length, before, 'no API request for an empty form');
  });

  await step('admin/admin logs in and is made to change the password', async () => {
    await login('admin', 'admin');
    await byId('forced-password-change').waitFor({ state: 'visible' });
    await expectHash(page, '#/change-password');
    await expectText(byId('page-title'), '修改初始密码');
    await expectText(byId('forced-notice'), /首次登录须先修改默认密码/);
    assert.equal(await byId('sidebar').count(), 0, 'no navigation before the password is changed');
    await screenshot(page, 'change-password.png');
  });

  await step('the console stays closed until the password is changed', async () => {
    await page.evaluate(() => {
      location.hash = '#/dashboard';
    });
    await expectHash(page, '#/change-password');
    await byId('forced-password-change').waitFor({ state: 'visible' });
    assert.equal(await byId('sidebar').count(), 0);
    // The server says the same: other calls answer 403 password_change_required.
    const about = await page.evaluate(async () => {
      const r = await fetch('/api/v1/about', { headers: { Accept: 'application/json' } });
      return { status: r.status, body: await r.json() };
    });
    assert.equal(about.status, 403);
    assert.equal(about.body.error.code, 'password_change_required');
  });

  await step('a mismatched confirmation is refused in the browser', async () => {
    const posts = passwordPosts();
    await page.locator('#pw-old').fill('admin');
    await page.locator('#pw-new').fill(NEW_PASSWORD);
    await page.locator('#pw-confirm').fill(NEW_PASSWORD + 'x');
    await page.locator('#pw-submit').click();
    await expectText(byId('pw-error'), '两次输入的新密码不一致。');
    assert.equal(passwordPosts(), posts, 'nothing sent to the server');
  });

  await step('a weak new password is refused with the server’s message', async () => {
    const posts = passwordPosts();
    await page.locator('#pw-old').fill('admin');
    await page.locator('#pw-new').fill('short1');
    await page.locator('#pw-confirm').fill('short1');
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/account/password');
    await page.locator('#pw-submit').click();
    assert.equal((await answer).status(), 400);
    const message = await expectText(byId('pw-error'), /^(?!两次输入的新密码不一致。$)\S/);
    assert.equal(passwordPosts(), posts + 1, 'the server was asked');
    assert.match(message, CJK, 'the server answers in Chinese');
    await byId('forced-password-change').waitFor({ state: 'visible' });
    await screenshot(page, 'change-password-error.png');
  });

  await step('a strong new password opens the console on 监控显示', async () => {
    await page.locator('#pw-old').fill('admin');
    await page.locator('#pw-new').fill(NEW_PASSWORD);
    await page.locator('#pw-confirm').fill(NEW_PASSWORD);
    await page.locator('#pw-submit').click();
    await expectHash(page, '#/dashboard');
    await expectText(byId('page-title'), '监控显示');
    await byId('dashboard-page').waitFor({ state: 'visible' });
    await expectText(page.locator('.brand-name'), 'CooCenter 呼叫中心');
    assert.deepEqual(await navLabels(), NAV_ORDER_ZH, 'navigation in the manual’s order');
    await expectAttr(byId('nav-dashboard'), 'aria-current', 'page');
    await screenshot(page, 'dashboard.png');
  });

  await step('管理员 menu → 系统说明 shows what the device reports', async () => {
    await openAdminMenu();
    await expectText(byId('menu-settings'), '设置');
    await expectText(byId('menu-about'), '系统说明');
    await expectText(byId('menu-upgrade'), '固件升级');
    await expectText(byId('menu-logout'), '登出');
    await screenshot(page, 'admin-menu.png');
    await byId('menu-about').click();
    await expectHash(page, '#/about');
    await expectText(byId('page-title'), '系统说明');
    await expectText(byId('about-product'), /\S/);
    await expectText(byId('about-version'), /\S/);
    await expectText(byId('about-hostname'), /\S/);
    await expectText(byId('about-fingerprint'), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await expectText(byId('about-started'), /\d{4}/);
    await screenshot(page, 'about.png');
  });

  await step('管理员 menu → 设置: the platform switch is saved on the device', async () => {
    await openAdminMenu();
    await byId('menu-settings').click();
    await expectHash(page, '#/settings');
    await expectText(byId('page-title'), '账号设置');
    await expectText(byId('card-password').locator('.card-title'), '管理员密码修改');
    await expectText(byId('card-platform').locator('.card-title'), '连接管理平台');
    await expectText(byId('card-console').locator('.card-title'), '控制台访问');
    const sw = byId('platform-switch');
    await sw.waitFor({ state: 'visible' });
    const was = await sw.getAttribute('aria-checked');
    const want = was === 'true' ? 'false' : 'true';
    await sw.click();
    await expectText(byId('platform-saved'), '设置已保存。');
    await expectAttr(sw, 'aria-checked', want);
    await screenshot(page, 'settings.png');
    await page.reload();
    await byId('platform-switch').waitFor({ state: 'visible' });
    await expectAttr(byId('platform-switch'), 'aria-checked', want);
  });

  await step('设置 → 启动控制台 opens the console page (console.test.mjs drives it)', async () => {
    await expectText(byId('console-start'), '启动控制台');
    await byId('console-start').click();
    await expectHash(page, '#/console');
    await expectText(byId('page-title'), '控制台');
    await byId('console-page').waitFor({ state: 'visible' });
    await screenshot(page, 'console.png');
  });

  await step('登出 ends the session on the device', async () => {
    await openAdminMenu();
    await byId('menu-logout').click();
    await expectHash(page, '#/login');
    await page.locator('#login-username').waitFor({ state: 'visible' });
    const status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    assert.equal(status, 401);
  });

  await step('the old password is refused, with the server’s message', async () => {
    await login('admin', 'admin');
    const message = await expectText(byId('login-error'), /\S/);
    assert.match(message, CJK, 'the server answers in Chinese');
    await expectHash(page, '#/login');
    assert.equal(await page.locator('#login-password').inputValue(), '', 'the password field is cleared');
    await screenshot(page, 'login-error.png');
  });

  await step('the new password logs in straight to the console', async () => {
    await login('admin', NEW_PASSWORD);
    await expectHash(page, '#/dashboard');
    await expectText(byId('page-title'), '监控显示');
    assert.equal(await byId('forced-password-change').count(), 0);
  });

  await step('English: the switch relabels everything and asks the server in English', async () => {
    await byId('lang-en').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await expectText(page.locator('.brand-name'), 'CooCenter Call Center');
    await expectText(byId('page-title'), 'Monitoring');
    await byId('dashboard-page').waitFor({ state: 'visible' });
    await expectText(byId('admin-menu'), 'Administrator');
    assert.deepEqual(await navLabels(), NAV_ORDER_EN);
    assert.equal(await page.evaluate(() => localStorage.getItem('coocenter.lang')), 'en');
    await screenshot(page, 'english.png');

    const zhRequests = log.api.filter((r) => r.lang === 'zh-CN').length;
    assert.ok(zhRequests > 0, 'requests made in Chinese carried Accept-Language: zh-CN');
    const mark = log.api.length;
    await page.reload();
    await expectText(byId('page-title'), 'Monitoring');
    const after = log.api.slice(mark);
    assert.ok(after.length > 0, 'the reload asked the server for the session');
    // The live stream (EventSource) cannot set headers and carries no localized text.
    for (const r of after) {
      if (r.path !== '/api/v1/events') assert.equal(r.lang, 'en', `${r.method} ${r.path} in English`);
    }
  });

  await step('every section of the navigation shows its title (English)', async () => {
    for (const s of SECTIONS) {
      await byId(`nav-${s.key}`).click();
      await expectHash(page, `#${s.path}`);
      await expectText(byId('page-title'), s.en);
      if (s.page) await byId(s.page).waitFor({ state: 'visible' });
      else await expectText(byId('not-available'), 'This section is not available yet.');
      await expectAttr(byId(`nav-${s.key}`), 'aria-current', 'page');
      if (s.group) await expectText(page.locator('.page-eyebrow'), 'Advanced settings');
      await screenshot(page, `section-${s.key}.png`);
    }
    const pbx = byId('nav-pbx');
    await expectText(pbx, 'PBX settings');
    assert.equal(await pbx.getAttribute('href'), `https://127.0.0.1:9999/`);
    assert.equal(await pbx.getAttribute('target'), '_blank');
    assert.match(await pbx.getAttribute('rel'), /noopener/);
  });

  await step('every section of the navigation shows its title (中文)', async () => {
    await byId('lang-zh').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    for (const s of SECTIONS) {
      await page.goto(`${daemon.url}#${s.path}`);
      await expectText(byId('page-title'), s.zh);
      if (s.page) await byId(s.page).waitFor({ state: 'visible' });
      else await expectText(byId('not-available'), '该功能尚未开放。');
      await expectText(byId(`nav-${s.key}`), s.zh);
    }
    await expectText(byId('nav-pbx'), 'PBX设置');
  });

  await step('an unknown address shows “page not found” inside the console', async () => {
    await page.goto(`${daemon.url}#/no-such-page`);
    await expectText(byId('page-title'), '页面不存在');
    await byId('sidebar').waitFor({ state: 'visible' });
  });

  await step('a laptop-narrow window folds the navigation into a drawer', async () => {
    await page.setViewportSize({ width: 820, height: 640 });
    await page.goto(`${daemon.url}#/dashboard`);
    await expectText(byId('page-title'), '监控显示');
    await byId('nav-toggle').waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().right <= 0, null, {
      timeout: 5_000,
    });
    await screenshot(page, 'narrow.png');
    await byId('nav-toggle').click();
    await page.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().left >= 0);
    await screenshot(page, 'narrow-nav.png');
    await byId('nav-queues').click();
    await expectText(byId('page-title'), '队列管理');
    await page.setViewportSize({ width: 1366, height: 800 });
  });

  await step('in English, the server’s login errors are English too', async () => {
    await byId('lang-en').click();
    await openAdminMenu();
    await expectText(byId('menu-logout'), 'Log out');
    await byId('menu-logout').click();
    await expectHash(page, '#/login');
    await login('admin', 'wrong-password');
    const message = await expectText(byId('login-error'), /\S/);
    assert.doesNotMatch(message, CJK, `English message expected, got ${message}`);
    await screenshot(page, 'login-error-en.png');
  });

  await step('no script errors, no CSP violations, nothing but loopback reached', async () => {
    assert.deepEqual(log.pageErrors, [], 'page errors');
    assert.deepEqual(log.cspViolations, [], 'CSP violations');
    assert.deepEqual(log.consoleErrors, [], 'console errors');
    assert.deepEqual(log.blocked, [], 'requests to non-loopback addresses');
  });
});
