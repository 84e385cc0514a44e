// The oracle: the real moby/patternmatcher and distribution/reference, answering JSON lines.
//
//	{"op":"match","patterns":[...],"path":"..."}  -> {"ok":bool,"error":"...","matched":bool}
//	{"op":"ignorefile","text":"..."}              -> {"ok":bool,"error":"...","patterns":[...]}
//	{"op":"reference","text":"..."}               -> {"ok":bool,"error":"...","domain":...,"path":...,
//	                                                  "tag":...,"digest":...,"string":...,"familiar":...}
//
// "match" is what BuildKit and Kaniko do with a .dockerignore: New, then MatchesOrParentMatches.
package main

import (
	"bufio"
	// go-digest offers an algorithm only to programs that link its hash (crypto.Hash.Available). Every
	// client that reads references in earnest (Kaniko, containerd, the docker CLI) links crypto/sha256
	// and crypto/sha512 through crypto/tls, so the oracle links both; without them a valid digest would
	// be "unsupported digest algorithm".
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

type request struct {
	Op       string   `json:"op"`
	Patterns []string `json:"patterns"`
	Path     string   `json:"path"`
	Text     string   `json:"text"`
}

type answer struct {
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"`
	Matched  bool     `json:"matched"`
	Patterns []string `json:"patterns,omitempty"`
	Domain   string   `json:"domain,omitempty"`
	Path     string   `json:"path,omitempty"`
	Tag      string   `json:"tag,omitempty"`
	Digest   string   `json:"digest,omitempty"`
	String   string   `json:"string,omitempty"`
	Familiar string   `json:"familiar,omitempty"`
}

func match(req request) answer {
	pm, err := patternmatcher.New(req.Patterns)
	if err != nil {
		return answer{Error: err.Error()}
	}
	matched, err := pm.MatchesOrParentMatches(req.Path)
	if err != nil {
		return answer{Error: err.Error()}
	}
	return answer{OK: true, Matched: matched}
}

func readIgnoreFile(req request) answer {
	patterns, err := ignorefile.ReadAll(strings.NewReader(req.Text))
	if err != nil {
		return answer{Error: err.Error()}
	}
	return answer{OK: true, Patterns: append([]string{}, patterns...)}
}

func parseReference(req request) answer {
	named, err := reference.ParseNormalizedNamed(req.Text)
	if err != nil {
		return answer{Error: err.Error()}
	}
	out := answer{OK: true, Domain: reference.Domain(named), Path: reference.Path(named),
		String: named.String(), Familiar: reference.FamiliarString(named)}
	if tagged, ok := named.(reference.Tagged); ok {
		out.Tag = tagged.Tag()
	}
	if digested, ok := named.(reference.Digested); ok {
		out.Digest = digested.Digest().String()
	}
	return out
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for in.Scan() {
		var req request
		var ans answer
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			ans = answer{Error: "oracle: bad request: " + err.Error()}
		} else {
			switch req.Op {
			case "match":
				ans = match(req)
			case "ignorefile":
				ans = readIgnoreFile(req)
			case "reference":
				ans = parseReference(req)
			default:
				ans = answer{Error: fmt.Sprintf("oracle: unknown op %q", req.Op)}
			}
		}
		if err := encoder.Encode(ans); err != nil {
			fmt.Fprintln(os.Stderr, "oracle:", err)
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
}
