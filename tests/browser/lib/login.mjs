// The first login of a fresh daemon: admin/admin, the forced password change, and the
// console opening on 监控显示 (manual §1). For journeys that start after it.

import { expectHash } from './harness.mjs';

export const NEW_PASSWORD = 'Coo-center-2026!';

/**
 * Opens `url`, logs in as admin/admin, sets `password` on the forced change form and waits
 * for #/dashboard. Returns the password now in force.
 */
export async function loginAndChangePassword(page, url, { password = NEW_PASSWORD } = {}) {
  await page.goto(url);
  await expectHash(page, '#/login');
  await page.locator('#login-username').fill('admin');
  await page.locator('#login-password').fill('admin');
  await page.locator('#login-submit').click();
  await page.getByTestId('forced-password-change').waitFor({ state: 'visible' });
  await page.locator('#pw-old').fill('admin');
  await page.locator('#pw-new').fill(password);
  await page.locator('#pw-confirm').fill(password);
  await page.locator('#pw-submit').click();
  await expectHash(page, '#/dashboard');
  await page.getByTestId('frame').waitFor({ state: 'visible' });
  return password;
}
