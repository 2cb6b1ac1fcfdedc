package config

import (
	"go.yaml.in/yaml/v3"
)

// literalYAML is koanf's YAML parser, except that an unquoted scalar YAML
// would read as a number or a timestamp reaches the decoder as the text
// written. YAML reads comment_id: 0x10 as 16, 0123 as 83, 1.10 as 1.1 and a
// 20-digit id as a float that has lost its last digits: a text key (an id, a
// label, a secret) must see what the operator wrote, and a number key gets
// the text parsed by the decoder (WeaklyTypedInput), as from the environment.
type literalYAML struct{}

// Unmarshal parses b into a koanf map, keeping number and timestamp
// literals as written.
func (literalYAML) Unmarshal(b []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return nil, nil // an empty file
	}
	keepLiterals(&doc)
	var out map[string]any
	if err := doc.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// Marshal is koanf's: koanf calls it only to write a config out.
func (literalYAML) Marshal(o map[string]any) ([]byte, error) { return yaml.Marshal(o) }

// keepLiterals retags every plain (unquoted, untagged) scalar under n that
// YAML resolved as a number or a timestamp as a string. Aliases point into
// the same tree, so their targets are retagged where they stand.
func keepLiterals(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style == 0 {
		switch n.Tag {
		case "!!int", "!!float", "!!timestamp":
			n.Tag = "!!str"
		}
	}
	for _, c := range n.Content {
		keepLiterals(c)
	}
}
