/** A `fetch` answer without a length whose body never ends: 1 KiB per pull. Counts pulls; notes when the reader cancels. */
export function endlessAnswer(status: number, headers: Record<string, string>) {
  const state = { pulls: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulls += 1;
      controller.enqueue(new Uint8Array(1024).fill(0x20));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body, { status, headers }), state };
}
