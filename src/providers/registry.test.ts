import { describe, expect, it } from 'vitest';
import {
  apiForEndpoint,
  endpointOf,
  presetByName,
  presetForApiHost,
  presetForConsoleHost,
  providerNameForUrl,
  upstreamPath,
} from './registry.js';

describe('provider registry', () => {
  it('knows API and console hosts apart', () => {
    expect(presetForApiHost('API.OpenAI.com.')?.id).toBe('openai');
    expect(presetForApiHost('platform.openai.com')).toBeNull();
    expect(presetForConsoleHost('platform.openai.com')?.id).toBe('openai');
    expect(presetByName('anthropic')?.keyPrefixes).toEqual(['sk-ant-']);
    expect(presetForApiHost('my-res.openai.azure.com')?.keyHeader).toBe('api-key');
  });

  it('names the provider of a URL (one answer for the gateway and the SDK)', () => {
    expect(providerNameForUrl('https://api.openai.com/v1')).toBe('openai');
    expect(providerNameForUrl('https://api.deepseek.com')).toBe('deepseek');
    expect(providerNameForUrl('https://generativelanguage.googleapis.com/v1beta')).toBe('gemini');
    expect(providerNameForUrl('https://acme.openai.azure.com/openai/v1')).toBe('azure');
    expect(providerNameForUrl('http://127.0.0.1:11434/v1')).toBe('local');
    expect(providerNameForUrl('https://relay.example/v1')).toBe('relay.example');
  });

  it('records the endpoint after the version segment', () => {
    expect(endpointOf('/v1/chat/completions')).toBe('/chat/completions');
    expect(endpointOf('/openai/v1/responses?x=1')).toBe('/responses');
    expect(endpointOf('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse')).toBe(
      '/models/gemini-2.5-flash:streamGenerateContent',
    );
    expect(endpointOf('/api/chat')).toBe('/api/chat');
    expect(endpointOf('/v1')).toBe('/');
  });

  it.each([
    ['/chat/completions', 'openai.chat'],
    ['/completions', 'openai.completions'],
    ['/responses', 'openai.responses'],
    ['/embeddings', 'openai.embeddings'],
    ['/images/generations', 'openai.images'],
    ['/audio/transcriptions', 'openai.audio'],
    ['/audio/speech', 'openai.audio'],
    ['/moderations', 'openai.moderations'],
    ['/messages', 'anthropic.messages'],
    ['/models/gemini-2.5-flash:generateContent', 'gemini.generate'],
    ['/api/chat', 'ollama.native'],
    ['/api/generate', 'ollama.native'],
    ['/files', 'generic'],
  ])('%s is read by %s', (endpoint, id) => {
    expect(apiForEndpoint(endpoint).id).toBe(id);
  });

  it('reads the model from the body or, for Gemini, from the path', () => {
    const g = apiForEndpoint('/models/gemini-2.5-flash:streamGenerateContent');
    expect(g.model('/models/gemini-2.5-flash:streamGenerateContent', null)).toBe('gemini-2.5-flash');
    expect(g.streamed('/models/gemini-2.5-flash:streamGenerateContent', null)).toBe(true);
    expect(apiForEndpoint('/api/chat').streamed('/api/chat', { model: 'llama3' })).toBe(true);
  });

  it.each([
    ['/v1', '/v1/chat/completions', true, '/v1/chat/completions'],
    ['/openai/v1', '/v1/chat/completions', true, '/openai/v1/chat/completions'],
    ['', '/v1/chat/completions', true, '/chat/completions'],
    ['', '/v1/messages', false, '/v1/messages'],
    ['/v1', '/v1/messages', false, '/v1/messages'],
    ['', '/v1beta/models/g:generateContent?alt=sse', false, '/v1beta/models/g:generateContent?alt=sse'],
    ['/v1beta', '/v1/models/g:generateContent', false, '/v1beta/models/g:generateContent'],
    ['/v1', '/api/chat', true, '/api/chat'],
    ['/api/v1/', '/v1/chat/completions', true, '/api/v1/chat/completions'],
  ])('base %s + %s (openai style %s) → %s', (base, path, openAIStyle, expected) => {
    expect(upstreamPath(base, path, openAIStyle)).toBe(expected);
  });
});
