import { figuresText } from './alert-figures.js';
import type { AlertSink } from './alert-sink.js';
import { alertLine } from './alert-text.js';
import type { FetchLike } from './post-json.js';
import { defaultFetch, postJson } from './post-json.js';

export interface SlackSinkOptions {
  /** A Slack (or Mattermost, or compatible) incoming-webhook URL. */
  url: string;
  name?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/** Slack's mrkdwn needs &, < and > escaped (api.slack.com/reference/surfaces/formatting#escaping). */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack-compatible incoming webhook: `{text, blocks}` with the summary line and the figures. */
export function createSlackSink(options: SlackSinkOptions): AlertSink {
  const fetchFn = options.fetch ?? defaultFetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: options.name ?? 'slack',
    async send(alert, change) {
      const f = alert.evidence.figures;
      const figures = figuresText(f);
      const text = escapeMrkdwn(alertLine(alert, change));
      const body = JSON.stringify({
        text,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
          { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(alert.description) } },
          {
            type: 'context',
            elements: [
              {
                type: 'mrkdwn',
                text: escapeMrkdwn(
                  `${figures} · first ${alert.first_seen} · last ${alert.last_seen} · alert ${alert.id}`,
                ),
              },
            ],
          },
        ],
      });
      return postJson(fetchFn, options.url, body, {}, timeoutMs);
    },
  };
}
