/** An error as one line for a reason or a log: the AWS exception name first when the message does not carry it. */
export function messageOf(error: unknown): string {
  const name = (error as { name?: string } | null)?.name;
  const message = error instanceof Error ? error.message : String(error);
  return name && name !== 'Error' && !message.includes(name) ? `${name}: ${message}` : message;
}
