/**
 * A TransformStream that splits text into lines (the `@std/streams`
 * TextLineStream, which cannot be imported here: JSR is out of reach). Used by
 * the test helpers and the conformance runner to read processes' output.
 *
 * @module
 */

/** Splits a stream of text into lines, without their `\n` or `\r\n`. */
export class TextLineStream extends TransformStream<string, string> {
  constructor() {
    let buffer = "";
    super({
      transform(chunk, controller) {
        buffer += chunk;
        let newline = buffer.indexOf("\n");
        while (newline !== -1) {
          controller.enqueue(buffer.slice(0, newline).replace(/\r$/, ""));
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf("\n");
        }
      },
      flush(controller) {
        if (buffer) controller.enqueue(buffer);
      },
    });
  }
}
