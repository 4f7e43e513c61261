/** Lines of an NDJSON body as parsed values, as they arrive. */
export async function * ndjsonLines (body: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true })
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim()
      buffered = buffered.slice(nl + 1)
      if (line !== '') yield JSON.parse(line)
    }
  }
  buffered += decoder.decode()
  if (buffered.trim() !== '') yield JSON.parse(buffered)
}
