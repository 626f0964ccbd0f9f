/**
 * A secret value (an API key, a bearer token) typed so it cannot be logged by accident: JSON,
 * `String()`, template literals and `util.inspect` all show "[redacted]". Only `reveal()` gives
 * the value, at the one place that hands it to an adapter.
 */
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}
