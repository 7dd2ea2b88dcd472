package accept

import (
	"crypto/ecdh"
	"crypto/sha256"
	"strings"
)

// ageRecipient is a valid age X25519 recipient derived from seed, so that
// the inventories of the test are the same on every run: the public key
// of the X25519 private key sha256(seed), bech32-encoded with the
// human-readable part "age", as age-keygen -y prints it.
func ageRecipient(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	key, err := ecdh.X25519().NewPrivateKey(sum[:])
	if err != nil {
		panic(err)
	}
	return bech32("age", key.PublicKey().Bytes())
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32 encodes data under hrp (BIP 173).
func bech32(hrp string, data []byte) string {
	// Regroup the bytes into 5-bit values, padding the last one.
	var values []byte
	acc, bits := 0, 0
	for _, b := range data {
		acc = acc<<8 | int(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			values = append(values, byte(acc>>bits&31))
		}
	}
	if bits > 0 {
		values = append(values, byte(acc<<(5-bits)&31))
	}
	var check []byte
	for i := 0; i < len(hrp); i++ {
		check = append(check, hrp[i]>>5)
	}
	check = append(check, 0)
	for i := 0; i < len(hrp); i++ {
		check = append(check, hrp[i]&31)
	}
	check = append(check, values...)
	check = append(check, 0, 0, 0, 0, 0, 0)
	mod := bech32Polymod(check) ^ 1
	var b strings.Builder
	b.WriteString(hrp)
	b.WriteByte('1')
	for _, v := range values {
		b.WriteByte(bech32Charset[v])
	}
	for i := 0; i < 6; i++ {
		b.WriteByte(bech32Charset[mod>>(5*(5-i))&31])
	}
	return b.String()
}

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if top>>i&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}
