import { describe, expect, it } from 'vitest';
import { sampleEvent } from '../../../test/integrity/sample-events.js';
import { eventLines } from './events.js';

describe('events table', () => {
  it('--follow: rows printed in later batches line up under the first header', () => {
    const first = sampleEvent(1);
    first.model_used = 'm';
    first.user_id = 'al';
    const later = sampleEvent(2);
    later.model_used = 'a-much-longer-model-name-2025';
    later.user_id = 'someone-with-a-long-id';
    later.status = 'SERVER_ERROR';
    const [head] = eventLines([first], { header: true, follow: true });
    const [row] = eventLines([later], { header: false, follow: true });
    // Left-aligned columns start where their header starts.
    expect(row!.indexOf('SERVER_ERROR')).toBe(head!.indexOf('status'));
    expect(row!.indexOf('a-much-longer-model')).toBe(head!.indexOf('model'));
    expect(row!.indexOf('someone-with')).toBe(head!.indexOf('user'));
    expect(row!.indexOf(later.id)).toBe(head!.lastIndexOf(' id') + 1);
    // Without --follow a batch is as wide as its values.
    const [tight] = eventLines([first], { header: true, follow: false });
    expect(tight!.length).toBeLessThan(head!.length);
  });
});
