package apidocs

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// member is one name/value pair of a JSON object.
type member struct {
	key   string
	value any
}

// object is a JSON object that keeps its members in the order written.
// encoding/json sorts map keys; the OpenAPI document reads better, and
// Swagger UI lists paths and tags better, in the order docs/api.md lists them.
type object []member

// MarshalJSON encodes o with its members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", m.key, err)
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", m.key, err)
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// list is a JSON array; a named type keeps the builder's literals short.
type list []any
