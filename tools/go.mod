// Module tools holds the small programs CI runs (dashboard metric check,
// govulncheck gate). It is a separate module so that `./...` in the service
// module never builds, tests or lints it, and so that it needs no
// dependency outside the standard library.
module github.com/blipsocial/blip/tools

go 1.26.8
