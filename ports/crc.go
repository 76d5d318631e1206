package ports

import (
	"encoding/binary"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"strings"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DsynthCRC computes dsynth's port directory CRC, for compatibility with its
// ports_crc.db: over every regular file and symlink (entries whose own name
// starts with "." or ends in ".core" are skipped, but files inside dot
// directories are not — dsynth's quirk), a CRC-32C of the mtime (8 bytes),
// extended by the size (8 bytes) and by the full path, all XORed together.
// Contents are never read.
func DsynthCRC(dir string) (uint32, error) {
	var acc uint32
	var buf [16]byte
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != dir && (strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".core")) {
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 {
			return nil
		}
		binary.LittleEndian.PutUint64(buf[0:8], uint64(fi.ModTime().Unix()))
		binary.LittleEndian.PutUint64(buf[8:16], uint64(fi.Size()))
		c := crc32.Update(0, castagnoli, buf[:8])
		c = crc32.Update(c, castagnoli, buf[8:])
		c = crc32.Update(c, castagnoli, []byte(path))
		acc ^= c
		return nil
	})
	return acc, err
}
