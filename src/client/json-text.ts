/**
 * A request body already encoded as JSON, sent as it is: a bulk import whose lines were read
 * as JSON text sends them without parsing and encoding every pattern again.
 */
export class JsonText {
  constructor (readonly text: string) {}
}
