package reproduce

import "github.com/go-dsynth/go-dsynth/builder"

// fileSHA256 is the hex SHA-256 of a file.
func fileSHA256(path string) (string, error) { return builder.FileSHA256(path) }
