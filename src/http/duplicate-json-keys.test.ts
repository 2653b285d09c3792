import { describe, expect, it } from 'vitest';
import { duplicateMember } from './duplicate-json-keys.js';

describe('duplicateMember', () => {
  it('finds a guarded top-level member given twice, also when one spelling is escaped', () => {
    expect(duplicateMember('{"model":"gpt-4.1","model":"o3"}')).toBe('model');
    expect(duplicateMember('{"model":"gpt-4.1", "mod\\u0065l" : "o3"}')).toBe('model');
    expect(duplicateMember('{"stream":false,"messages":[],"stream":true}')).toBe('stream');
    expect(duplicateMember('{"user":"a","user":"b"}')).toBe('user');
  });

  it('ignores nested members, string values that look like names, and other duplicates', () => {
    expect(duplicateMember('{"model":"m","messages":[{"model":"x"},{"model":"y"}]}')).toBeNull();
    expect(duplicateMember('{"model":"m","metadata":{"model":"x","user":"u"},"user":"v"}')).toBeNull();
    expect(duplicateMember('{"model":"m","content":"\\"model\\":1","x":"model"}')).toBeNull();
    expect(duplicateMember('{"model":"m","temperature":1,"temperature":2}')).toBeNull();
    expect(duplicateMember('{"a":"}{","model":"m"}')).toBeNull();
  });
});
