// A placeholder for an invoked actor that the host provides with `machine.provide({ actors })`.
import { fromPromise } from 'xstate';

/** Promise logic of the right input and output types that fails loudly if it is ever run unprovided. */
export function notProvided<TOutput, TInput = void>(name: string, how: string) {
  return fromPromise<TOutput, TInput>(async () => {
    throw new Error(`${name} is not provided: ${how}`);
  });
}
