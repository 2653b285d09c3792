// The benchmark's provider: the project's mock, alone in its own process.
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { announce, serveStats } from './child-stats.js';

const mock = new MockProvider({
  record: false,
  chunks: 8,
  chunkDelayMs: Number(process.env.BENCH_CHUNK_DELAY_MS ?? 0),
});
await mock.listen(0);
serveStats();
announce(Number(new URL(mock.baseUrl).port));
