package config

// KeyEntropyBits exposes keyEntropyBits to the tests of SECRET_KEY strength.
var KeyEntropyBits = keyEntropyBits
