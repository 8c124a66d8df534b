// How a simulator sends a webhook as the vendors do: a POST of the exact bytes it signed, sent
// again on anything but 2xx (a refused connection included), with a growing pause between tries.

export interface WebhookSendOptions {
  /** Tries in all, the first included (default 5). */
  attempts?: number;
  /** The pause after the first failed try, doubled after each (default 200 ms). */
  backoffMs?: number;
}

export interface WebhookSendResult {
  /** The last answer's status; 0 when the last try got no answer. */
  status: number;
  attempts: number;
  acknowledged: boolean;
}

/** Posts `body` (the signed bytes, unchanged) until a 2xx or the tries run out. */
export async function sendWebhook(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  options: WebhookSendOptions = {},
): Promise<WebhookSendResult> {
  const attempts = options.attempts ?? 5;
  let status = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    status = await fetch(url, { method: 'POST', body, headers }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status;
      },
      () => 0,
    );
    if (status >= 200 && status < 300) return { status, attempts: attempt, acknowledged: true };
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, (options.backoffMs ?? 200) * 2 ** (attempt - 1)));
  }
  return { status, attempts, acknowledged: false };
}
