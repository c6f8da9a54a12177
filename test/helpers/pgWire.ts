// Reading PostgreSQL's answers as a proxy sees them (protocol 3, backend messages), to tell what became of a
// statement whose reply was dropped on its way back: committed, rolled back, or failed.

/** The whole backend messages at the start of `bytes`: each a type letter and its body. */
export function backendMessages(bytes: Buffer): Array<{ type: string; body: Buffer }> {
  const messages: Array<{ type: string; body: Buffer }> = [];
  for (let at = 0; at + 5 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at + 1);
    if (at + 1 + length > bytes.length) break;
    messages.push({ type: String.fromCharCode(bytes[at]!), body: bytes.subarray(at + 5, at + 1 + length) });
    at += 1 + length;
  }
  return messages;
}

/** True once the reply holds ReadyForQuery ('Z'), the last message of every answer to a query. */
export const replyEnded = (reply: Buffer): boolean => backendMessages(reply).some((m) => m.type === 'Z');

/**
 * What a whole reply says of its statement once the connection is lost right after it: `committed` (no error, and
 * no transaction left open: it committed as it ran), `rolled back` (it ran inside a transaction, which a lost
 * connection rolls back), `failed` (an ErrorResponse).
 */
export function statementOutcome(reply: Buffer): 'committed' | 'rolled back' | 'failed' {
  const messages = backendMessages(reply);
  const ready = messages.find((m) => m.type === 'Z');
  if (ready === undefined) throw new Error('the reply has not ended (no ReadyForQuery)');
  if (messages.some((m) => m.type === 'E')) return 'failed';
  // ReadyForQuery's status: 'I' idle (outside a transaction), 'T' in one, 'E' in a failed one.
  return String.fromCharCode(ready.body[0]!) === 'I' ? 'committed' : 'rolled back';
}
