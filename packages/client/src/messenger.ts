import type { StrataErrorCode } from '@strata/policy';
import { REPLY_ERROR, type StrataMessage, type StrataReply } from '@strata/policy/protocol';
import { clientError } from './errors.js';

/**
 * Posts a message to the service worker and resolves with its reply on a MessageChannel.
 * `postMessage` to the controller wakes a stopped worker (a BroadcastChannel would not,
 * HTML §9.5, docs/http-rules.md#sse-resumption). A reply of type `strata:error` rejects with
 * the worker's code.
 */
export function askWorker(
  worker: ServiceWorker | null | undefined,
  message: StrataMessage,
  timeoutMs: number,
): Promise<StrataReply> {
  if (!worker) return Promise.reject(clientError('E_SW_UNAVAILABLE', 'no active service worker to message'));
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => {
      channel.port1.close();
      reject(clientError('E_SW_TIMEOUT', `the service worker did not answer ${message.type} within ${timeoutMs} ms`));
    }, timeoutMs);
    channel.port1.onmessage = (event: MessageEvent<StrataReply>) => {
      clearTimeout(timer);
      channel.port1.close();
      const reply = event.data;
      if (reply?.type === REPLY_ERROR) reject(clientError(reply.error.code as StrataErrorCode, reply.error.message));
      else resolve(reply);
    };
    worker.postMessage(message, [channel.port2]);
  });
}
