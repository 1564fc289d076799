/**
 * A topic that a setting names cannot be used as it is: missing, or too small for the records the
 * job writes. It is a configuration error (the CLI exits 2 with the message, which names the
 * setting and the fix), whichever side of the job found it.
 */
export class TopicSettingError extends Error {
  constructor(
    message: string,
    readonly topics: readonly string[],
  ) {
    super(message);
  }
}
