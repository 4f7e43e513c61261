// `node --import tsx --import ./test/helpers/encode-counter/register.mjs …`: counts encodes (hooks.mjs).
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
