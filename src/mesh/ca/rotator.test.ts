import { describe, expect, it } from 'vitest';
import { CertificateAuthority } from './authority.ts';
import { type RenewalScheduler, type SvidRenewal, SvidRenewalError, SvidRotator } from './rotator.ts';
import type { Svid, SvidIssuer, SvidRequest } from './svid.ts';

/** Timers the test fires by hand: renewal is driven without waiting through real time. */
class ManualScheduler implements RenewalScheduler {
  readonly pending: { callback: () => void; delayMs: number; cancelled: boolean }[] = [];
  schedule(callback: () => void, delayMs: number) {
    const timer = { callback, delayMs, cancelled: false };
    this.pending.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  live() {
    return this.pending.filter((timer) => !timer.cancelled);
  }
  fireAll() {
    const due = this.live();
    due.forEach((timer) => (timer.cancelled = true));
    due.forEach((timer) => timer.callback());
  }
}

const account = { namespace: 'trustusbank-bank-agents', serviceAccount: 'support-bot' };
const spiffeId = 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot';

function nextRenewal(rotator: SvidRotator): Promise<SvidRenewal> {
  return new Promise((resolve) => {
    const off = rotator.onRenewed((renewal) => {
      off();
      resolve(renewal);
    });
  });
}

describe('SvidRotator', () => {
  it('issues once, schedules renewal at half the lifetime, and renews when the timer fires', async () => {
    const ca = await CertificateAuthority.open();
    const scheduler = new ManualScheduler();
    const rotator = new SvidRotator(ca, { ttlMs: 4000, scheduler });
    const [first, again] = await Promise.all([rotator.ensure(account), rotator.ensure(account)]);
    expect(again).toBe(first);
    expect(first.spiffeId).toBe(spiffeId);
    expect(scheduler.live().map((timer) => timer.delayMs)).toEqual([2000]);

    const renewed = nextRenewal(rotator);
    scheduler.fireAll();
    const renewal = await renewed;
    expect(renewal.previous).toBe(first);
    expect(renewal.svid.serialNumber).not.toBe(first.serialNumber);
    expect(rotator.current(spiffeId)).toBe(renewal.svid);
    expect(await rotator.ensure(account)).toBe(renewal.svid);
    // The next renewal is scheduled for the new SVID, and only one timer is live.
    expect(scheduler.live().map((timer) => timer.delayMs)).toEqual([2000]);
    rotator.stop();
    expect(scheduler.live()).toEqual([]);
  });

  it('honours a configured renewal fraction', async () => {
    const scheduler = new ManualScheduler();
    const rotator = new SvidRotator(await CertificateAuthority.open(), { ttlMs: 10_000, renewAtFraction: 0.8, scheduler });
    await rotator.ensure(account);
    expect(scheduler.live().map((timer) => timer.delayMs)).toEqual([8000]);
    rotator.stop();
  });

  it('keeps the old SVID when renewal fails, reports the failure, and retries', async () => {
    const ca = await CertificateAuthority.open();
    let failNext = false;
    const flaky: SvidIssuer = {
      issueSvid: (request: SvidRequest): Promise<Svid> => (failNext ? Promise.reject(new Error('CA unavailable')) : ca.issueSvid(request)),
    };
    const scheduler = new ManualScheduler();
    const rotator = new SvidRotator(flaky, { ttlMs: 60_000, retryDelayMs: 1234, scheduler });
    const first = await rotator.ensure(account);
    const errors: SvidRenewalError[] = [];
    rotator.onError((error) => errors.push(error));

    failNext = true;
    await expect(rotator.renew(spiffeId)).rejects.toBeInstanceOf(SvidRenewalError);
    expect(errors.map((error) => [error.spiffeId, (error.cause as Error).message])).toEqual([[spiffeId, 'CA unavailable']]);
    expect(rotator.current(spiffeId)).toBe(first);
    expect(scheduler.live().map((timer) => timer.delayMs)).toEqual([1234]);

    failNext = false;
    const renewed = nextRenewal(rotator);
    scheduler.fireAll();
    expect((await renewed).previous).toBe(first);
    rotator.stop();
  });

  it('stops renewing an identity it is told to forget', async () => {
    const scheduler = new ManualScheduler();
    const rotator = new SvidRotator(await CertificateAuthority.open(), { ttlMs: 4000, scheduler });
    await rotator.ensure(account);
    rotator.forget(spiffeId);
    expect(scheduler.live()).toEqual([]);
    expect(rotator.current(spiffeId)).toBeUndefined();
    expect(rotator.spiffeIds()).toEqual([]);
  });

  it('renews on real, unref’d timers by default', async () => {
    const rotator = new SvidRotator(await CertificateAuthority.open(), { ttlMs: 1000, renewAtFraction: 0.05 });
    const first = await rotator.ensure(account);
    const renewal = await nextRenewal(rotator);
    expect(renewal.previous).toBe(first);
    rotator.stop();
  });
});
