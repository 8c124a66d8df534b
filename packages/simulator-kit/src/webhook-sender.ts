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

/** One delivery a simulator's command line sends: what it is (for its log line) and how. */
export interface WebhookDelivery {
  readonly label: string;
  readonly send: () => Promise<WebhookSendResult>;
}

/**
 * Sends the deliveries one after another (each retried as the vendor does) and writes one line per
 * delivery and a summary to `write` (the simulator's stderr): the `--webhook-url` flags of the
 * simulators' command lines. Resolves with how many were acknowledged.
 */
export async function sendWebhooksInTurn(
  name: string,
  url: string,
  deliveries: readonly WebhookDelivery[],
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  let acknowledged = 0;
  for (const [i, delivery] of deliveries.entries()) {
    const result = await delivery.send();
    if (result.acknowledged) acknowledged += 1;
    const answer = result.status === 0 ? 'no answer' : `HTTP ${result.status}`;
    write(
      `${name}: webhook ${i + 1}/${deliveries.length} (${delivery.label}) → ${answer}${result.acknowledged ? '' : `, not acknowledged after ${result.attempts} tries`}`,
    );
  }
  write(`${name}: ${acknowledged} of ${deliveries.length} webhooks acknowledged by ${url}`);
  return acknowledged;
}
