/** After-work: each task runs once, after its delay or at a flush, whichever comes first. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AfterWork } from '../../src/after-work.ts';

describe('after-work', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs a task once its delay has passed, not before', () => {
    const work = new AfterWork(5);
    const task = vi.fn();
    work.later(task);
    vi.advanceTimersByTime(4);
    expect(task).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(task).toHaveBeenCalledTimes(1);
    expect(work.size).toBe(0);
  });

  it('a flush runs every waiting task at once, in order, and none of them runs again', () => {
    const work = new AfterWork(5);
    const ran: string[] = [];
    work.later(() => ran.push('first'));
    work.later(() => ran.push('second'));
    work.flush();
    expect(ran).toEqual(['first', 'second']);
    expect(work.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10);
    expect(ran).toEqual(['first', 'second']);
  });

  it('a task queued by a task that a flush ran waits for its own delay', () => {
    const work = new AfterWork(5);
    const inner = vi.fn();
    work.later(() => work.later(inner));
    work.flush();
    expect(inner).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5);
    expect(inner).toHaveBeenCalledTimes(1);
  });
});
