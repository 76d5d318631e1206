package report

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// The report's colours.
var (
	tileColor = color.NRGBA{0x1f, 0x29, 0x37, 0xff}
	barColor  = color.NRGBA{0x34, 0xd3, 0x99, 0xff}
)

// Favicon returns the report's 16×16 favicon.png: a dark tile with three
// green bars (a progress meter), drawn here rather than shipped as a file.
func Favicon() []byte { return meterPNG(16, 16, 1) }

// Logo returns the report's dsynth.png, the image dsynth's Report page
// shows in its header and copies beside it (html.c's file list): the same
// meter as the favicon, 64×64, so that a page or a tool written for
// dsynth's Report directory finds it.
func Logo() []byte { return meterPNG(64, 64, 4) }

// meterPNG draws the meter on a w×h tile, its bars scaled by k.
func meterPNG(w, h, k int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, tileColor)
		}
	}
	for i, bh := range []int{6, 9, 12} {
		x0 := (2 + i*4) * k
		for y := (14 - bh) * k; y < 14*k; y++ {
			for x := x0; x < x0+3*k; x++ {
				img.Set(x, y, barColor)
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // encoding an in-memory image cannot fail
	return b.Bytes()
}
