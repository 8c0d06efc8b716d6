/**
 * The browser tests skip only outside CI when Chromium is missing; under
 * CI=true a missing Chromium is a failure, never a silent skip.
 */
import { describe, expect, it, vi } from 'vitest';
import { chromiumAvailability, CHROMIUM_PATH } from './helpers/chromium.js';

describe('chromiumAvailability', () => {
  it('fails under CI=true when Chromium is missing', () => {
    expect(() => chromiumAvailability('/nonexistent/chromium', 'true')).toThrow('CI=true but the console browser tests cannot run: /nonexistent/chromium not found');
  });

  it('skips with a message outside CI when Chromium is missing', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(chromiumAvailability('/nonexistent/chromium', '')).toEqual({ run: false, why: expect.stringContaining('apt-get install -y chromium') });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('skipping the console browser tests'));
    warn.mockRestore();
  });

  it('runs when the executable is there', () => {
    expect(chromiumAvailability(process.execPath, 'true')).toEqual({ run: true });
    expect(CHROMIUM_PATH).toBe('/usr/bin/chromium');
  });
});
