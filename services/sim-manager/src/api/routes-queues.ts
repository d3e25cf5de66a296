/**
 * `/queues`: BullMQ's own view of the queues (bull-board), in BullMQ mode, behind the token: it can retry and
 * remove jobs. A browser cannot send a Bearer header, so `/queues?token=T` once sets an HttpOnly, SameSite
 * cookie and redirects; scripts may send the header instead.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import { sameSecret, tokenMatches } from './api-app.js';

const COOKIE = 'westream_token';

function cookieMatches(req: FastifyRequest, token: string): boolean {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== COOKIE) continue;
    try {
      return sameSecret(decodeURIComponent(v.join('=')), token);
    } catch {
      return false; // a malformed escape: not our cookie
    }
  }
  return false;
}

export async function registerQueues(app: FastifyInstance, queues: readonly Queue[], token: string): Promise<void> {
  const board = new FastifyAdapter();
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: board });
  board.setBasePath('/queues');
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (tokenMatches(req, token) || cookieMatches(req, token)) return;
      if (sameSecret(new URL(req.url, 'http://x').searchParams.get('token'), token)) {
        return reply.header('set-cookie', `${COOKIE}=${encodeURIComponent(token)}; Path=/queues; HttpOnly; SameSite=Strict`).redirect('/queues', 303);
      }
      return reply.code(401).send({
        error: 'Unauthorized',
        message: 'the queue board can change jobs: open /queues?token=<token> once (the token the run printed), or send Authorization: Bearer <token>',
      });
    });
    await scope.register(board.registerPlugin(), { prefix: '/queues' });
  });
}
