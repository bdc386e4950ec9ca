package blip

// CleanShortText exposes the profile-text rule (names, bios) to the tests.
var CleanShortText = cleanShortText
