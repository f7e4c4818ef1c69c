package main

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// allValidator is what protoc-gen-validate generates on every message with rules.
type allValidator interface{ ValidateAll() error }

// pgvError is the shape of every generated <Message>ValidationError.
type pgvError interface {
	Field() string
	Reason() string
	Cause() error
}

// multiError is the shape of every generated <Message>MultiError.
type multiError interface{ AllErrors() []error }

const anyFullName protoreflect.FullName = "google.protobuf.Any"

// validateTree runs ValidateAll on msg and on every message packed in a google.protobuf.Any
// anywhere below it. Generated ValidateAll stops at Any fields (anypb.Any has no rules of its own
// to call), yet Envoy validates the typed config it unpacks, e.g. the HttpConnectionManager of an
// api_listener and each http filter's typed_config.
func validateTree(msg proto.Message, path string) []string {
	var out []string
	if v, ok := msg.(allValidator); ok {
		if err := v.ValidateAll(); err != nil {
			for _, line := range flatten(err, "") {
				out = append(out, joinPath(path, line))
			}
		}
	}
	walkAnys(msg.ProtoReflect(), path, func(a *anypb.Any, at string) {
		inner, err := a.UnmarshalNew()
		if err != nil {
			out = append(out, joinPath(at, fmt.Sprintf("cannot unpack Any %q: %v", a.GetTypeUrl(), err)))
			return
		}
		out = append(out, validateTree(inner, fmt.Sprintf("%s(%s)", at, inner.ProtoReflect().Descriptor().Name()))...)
	})
	return out
}

func joinPath(path, rest string) string {
	if path == "" {
		return rest
	}
	return path + ": " + rest
}

// flatten turns PGV's nested errors into one line per violated rule, each with its field path
// ("Endpoints[0].LbEndpoints[0]...: reason").
func flatten(err error, prefix string) []string {
	var multi multiError
	if errors.As(err, &multi) {
		var out []string
		for _, e := range multi.AllErrors() {
			out = append(out, flatten(e, prefix)...)
		}
		return out
	}
	var v pgvError
	if errors.As(err, &v) {
		field := v.Field()
		if prefix != "" {
			field = prefix + "." + field
		}
		if cause := v.Cause(); cause != nil && isEmbedded(v.Reason()) {
			return flatten(cause, field)
		}
		line := field + ": " + v.Reason()
		if cause := v.Cause(); cause != nil {
			line += ": " + cause.Error()
		}
		return []string{line}
	}
	if prefix == "" {
		return []string{err.Error()}
	}
	return []string{prefix + ": " + err.Error()}
}

func isEmbedded(reason string) bool {
	return strings.HasPrefix(reason, "embedded message failed validation")
}

// walkAnys calls visit for every set google.protobuf.Any field below m (not m itself), with a
// path in proto field names.
func walkAnys(m protoreflect.Message, path string, visit func(*anypb.Any, string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, value protoreflect.Value) bool {
		name := string(fd.Name())
		if path != "" {
			name = path + "." + name
		}
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			value.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				visitMessage(v.Message(), fmt.Sprintf("%s[%v]", name, k.Interface()), visit)
				return true
			})
		case fd.Message() == nil:
		case fd.IsList():
			list := value.List()
			for i := 0; i < list.Len(); i++ {
				visitMessage(list.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i), visit)
			}
		default:
			visitMessage(value.Message(), name, visit)
		}
		return true
	})
}

func visitMessage(m protoreflect.Message, path string, visit func(*anypb.Any, string)) {
	if m.Descriptor().FullName() == anyFullName {
		a, ok := m.Interface().(*anypb.Any)
		if !ok {
			// A dynamic Any (not the generated type): its fields are type_url and value.
			fields := m.Descriptor().Fields()
			a = &anypb.Any{
				TypeUrl: m.Get(fields.ByName("type_url")).String(),
				Value:   m.Get(fields.ByName("value")).Bytes(),
			}
		}
		visit(a, path)
		return
	}
	walkAnys(m, path, visit)
}
