// Command validate checks Envoy bootstrap files against Envoy's own API, since Envoy itself cannot
// run where the tests do. Each file (YAML or JSON) is loaded into the v3 Bootstrap message with
// protojson, so unknown fields, wrong types and bad enum names fail; then the protoc-gen-validate
// rules Envoy ships with its protos (go-control-plane's ValidateAll) run over the whole tree,
// including every typed_config: an Any is opaque to ValidateAll, so each one is unpacked into its
// concrete message and validated in turn, recursively.
//
// Usage: validate FILE... — prints "FILE: valid" per good file, and every violation of a bad one
// on stderr; exits 1 when any file is invalid.
//
// The extension packages imported below register the typed_config types a configuration may
// use. A type that is not registered fails with "unable to resolve": import its package here.
package main

import (
	"fmt"
	"os"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	// Used by deploy/envoy/envoy.yaml.
	_ "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"

	// Edge features a configuration is likely to grow (rate limits, authorization, compression,
	// header rewriting, health checks, circuit breaking and retries need no extra package).
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// validator is what protoc-gen-validate generates on every Envoy message.
type validator interface{ ValidateAll() error }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: validate FILE...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		problems, err := validateFile(path)
		if err != nil {
			problems = append(problems, err.Error())
		}
		if len(problems) == 0 {
			fmt.Printf("%s: valid\n", path)
			continue
		}
		failed = true
		fmt.Fprintf(os.Stderr, "%s: %d problem(s)\n", path, len(problems))
		for _, p := range problems {
			fmt.Fprintf(os.Stderr, "  %s\n", p)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// validateFile loads one bootstrap file and returns its violations.
func validateFile(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	var bootstrap bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &bootstrap); err != nil {
		hint := ""
		if strings.Contains(err.Error(), "unable to resolve") {
			hint = " (a typed_config type this validator does not know: import its package in main.go)"
		}
		return nil, fmt.Errorf("not a v3 Bootstrap: %w%s", err, hint)
	}
	return validateTree(&bootstrap, "bootstrap"), nil
}

// validateTree runs the message's own rules, then those of every Any inside it.
func validateTree(m proto.Message, path string) []string {
	var problems []string
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			problems = append(problems, flatten(path, err)...)
		}
	}
	walkAnys(m.ProtoReflect(), path, func(a *anypb.Any, at string) {
		inner, err := a.UnmarshalNew()
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", at, err))
			return
		}
		problems = append(problems, validateTree(inner, at)...)
	})
	return problems
}

// walkAnys calls visit for every google.protobuf.Any set in m, without descending into them.
func walkAnys(m protoreflect.Message, path string, visit func(*anypb.Any, string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := fmt.Sprintf("%s.%s", path, fd.Name())
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					visitMessage(mv.Message(), fmt.Sprintf("%s[%v]", name, k.Interface()), visit)
					return true
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				list := v.List()
				for i := 0; i < list.Len(); i++ {
					visitMessage(list.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i), visit)
				}
			}
		case fd.Message() != nil:
			visitMessage(v.Message(), name, visit)
		}
		return true
	})
}

func visitMessage(m protoreflect.Message, path string, visit func(*anypb.Any, string)) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		visit(a, fmt.Sprintf("%s<%s>", path, a.GetTypeUrl()[strings.LastIndex(a.GetTypeUrl(), "/")+1:]))
		return
	}
	walkAnys(m, path, visit)
}

// fieldError is a protoc-gen-validate violation: a field, why, and the nested cause, if any.
type fieldError interface {
	Field() string
	Reason() string
	Cause() error
}

// flatten turns a ValidateAll error (multi-errors of nested causes) into one line per violation,
// each with the path of the field that broke a rule.
func flatten(path string, err error) []string {
	if multi, ok := err.(interface{ AllErrors() []error }); ok {
		var out []string
		for _, e := range multi.AllErrors() {
			out = append(out, flatten(path, e)...)
		}
		return out
	}
	if fe, ok := err.(fieldError); ok {
		at := path + "." + fe.Field()
		if cause := fe.Cause(); cause != nil {
			return flatten(at, cause)
		}
		return []string{at + ": " + fe.Reason()}
	}
	return []string{path + ": " + err.Error()}
}
