// Package blip is the domain of the Blip microblogging service: users,
// sessions, blips, likes and follows, the rules that govern them, and the
// interfaces of the stores and caches those rules consume.
//
// It imports no other Blip package and nothing that speaks HTTP, SQL or Redis;
// adapters under internal/ implement its interfaces and cmd/blip wires them.
package blip
