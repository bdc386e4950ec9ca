package storetest

// blipTests cover BlipStore and GraphStore.
func blipTests() []contractTest { return nil }
