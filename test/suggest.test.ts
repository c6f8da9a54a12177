// "Did you mean": edit distance and the two-edit limit.
import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../src/suggest.js';

describe('suggest', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('status', 'status')).toBe(0);
    expect(editDistance('stauts', 'status')).toBe(2); // a swap is two edits
    expect(editDistance('sen', 'send')).toBe(1);
    expect(editDistance('', 'reset')).toBe(5);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests the nearest word within two edits, and nothing beyond', () => {
    const commands = ['server', 'status', 'preview', 'send', 'reset'];
    expect(closest('stauts', commands)).toBe('status');
    expect(closest('serve', commands)).toBe('server');
    expect(closest('previw', commands)).toBe('preview');
    expect(closest('xyzzy', commands)).toBeUndefined();
    expect(closest('deploy', commands)).toBeUndefined();
  });
});
