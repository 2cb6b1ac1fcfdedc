// Package doccheck holds only tests: the checks CI runs on the project's
// Markdown (`go test ./...` runs them).
//
//   - TestMarkdownLinks: every relative link of every Markdown file of the
//     repository points at a file or directory that exists, and an #anchor
//     into a Markdown file names one of its headings by its GitHub anchor
//     (Chinese headings included).
//   - TestConfigKeysDocumented: every key of config.example.yaml, commented-out
//     sections included, is mentioned by a guide (see keys_test.go for the
//     exact rule).
//   - TestGuideQueries: every ```sql block of the guides runs against a
//     database the demo produced, and returns rows unless it is known to be
//     allowed to be empty.
package doccheck
