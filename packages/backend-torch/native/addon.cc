// dfdet torch addon: at::Tensor handles for a tfjs KernelBackend, and one generic entry point that
// calls any ATen operator by name through the c10 dispatcher (boxed), so kernels are written in TS.
//
// Tensors live in a handle table keyed by integer ids and are freed only by dispose(): N-API
// finalizers do not run during a synchronous training loop, so nothing here relies on GC.

#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include <torch/version.h>

#include <dlfcn.h>
#include <cmath>

#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// state

std::unordered_map<int64_t, at::Tensor> g_tensors;
int64_t g_next_id = 1;
c10::Device g_device(c10::kCPU);

struct CachedOp {
  c10::OperatorHandle handle;
  std::vector<c10::Argument> args;  // copied from the schema
  size_t num_returns;
};
std::unordered_map<std::string, std::unique_ptr<CachedOp>> g_ops;

int64_t put(at::Tensor t) {
  int64_t id = g_next_id++;
  g_tensors.emplace(id, std::move(t));
  return id;
}

const at::Tensor& get(int64_t id) {
  auto it = g_tensors.find(id);
  if (it == g_tensors.end()) throw std::runtime_error("torch addon: no tensor with id " + std::to_string(id) + " (disposed?)");
  return it->second;
}

at::ScalarType dtypeFromName(const std::string& s) {
  if (s == "float32") return at::kFloat;
  if (s == "int32") return at::kInt;
  if (s == "bool") return at::kBool;
  if (s == "int64") return at::kLong;
  if (s == "float64") return at::kDouble;
  if (s == "uint8") return at::kByte;
  throw std::runtime_error("torch addon: unsupported dtype " + s);
}

const char* dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kInt: return "int32";
    case at::kBool: return "bool";
    case at::kLong: return "int64";
    case at::kDouble: return "float64";
    case at::kByte: return "uint8";
    default: return "other";
  }
}

std::vector<int64_t> toIntVector(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw std::runtime_error(std::string("torch addon: ") + what + " must be an array of numbers");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

// tfjs knows float32, int32 and bool: outputs of other types are narrowed (sum of int32 is
// int64 in torch, argmax returns int64, ...) unless the caller asks for raw outputs.
at::Tensor narrow(at::Tensor t) {
  switch (t.scalar_type()) {
    case at::kLong:
    case at::kShort:
    case at::kChar:
    case at::kByte:
      return t.to(at::kInt);
    case at::kDouble:
    case at::kHalf:
    case at::kBFloat16:
      return t.to(at::kFloat);
    default:
      return t;
  }
}

// ---------------------------------------------------------------------------------------------
// tensors

Napi::Value Create(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "create(values: TypedArray, shape: number[], dtype)");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = toIntVector(info[1], "shape");
  auto dtype = dtypeFromName(info[2].As<Napi::String>().Utf8Value());
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  size_t elem = c10::elementSize(dtype);
  if (ta.ElementLength() != static_cast<size_t>(numel) || ta.ByteLength() != numel * elem) {
    std::ostringstream msg;
    msg << "create: " << ta.ElementLength() << " values (" << ta.ByteLength() << " bytes) for shape of " << numel << " "
        << dtypeName(dtype) << " elements";
    throw Napi::Error::New(env, msg.str());
  }
  c10::InferenceMode guard;
  auto t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (numel > 0) {
    auto buf = ta.ArrayBuffer();
    std::memcpy(t.data_ptr(), static_cast<uint8_t*>(buf.Data()) + ta.ByteOffset(), numel * elem);
  }
  if (g_device.type() != c10::kCPU) t = t.to(g_device);
  return Napi::Number::New(env, static_cast<double>(put(std::move(t))));
}

Napi::Value Read(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  c10::InferenceMode guard;
  at::Tensor t = get(info[0].As<Napi::Number>().Int64Value());
  if (t.device().type() != c10::kCPU) t = t.to(c10::kCPU);
  t = narrow(t).contiguous();
  int64_t n = t.numel();
  switch (t.scalar_type()) {
    case at::kFloat: {
      auto out = Napi::Float32Array::New(env, n);
      if (n) std::memcpy(out.Data(), t.data_ptr(), n * 4);
      return out;
    }
    case at::kInt: {
      auto out = Napi::Int32Array::New(env, n);
      if (n) std::memcpy(out.Data(), t.data_ptr(), n * 4);
      return out;
    }
    case at::kBool: {
      auto out = Napi::Uint8Array::New(env, n);
      if (n) std::memcpy(out.Data(), t.data_ptr(), n);
      return out;
    }
    default:
      throw Napi::Error::New(env, std::string("read: unsupported dtype ") + c10::toString(t.scalar_type()));
  }
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  auto id = info[0].As<Napi::Number>().Int64Value();
  return Napi::Boolean::New(info.Env(), g_tensors.erase(id) > 0);
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto& t = get(info[0].As<Napi::Number>().Int64Value());
  auto out = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
  return out;
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  const auto& t = get(info[0].As<Napi::Number>().Int64Value());
  return Napi::String::New(info.Env(), dtypeName(t.scalar_type()));
}

Napi::Value Count(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_tensors.size()));
}

Napi::Value Bytes(const Napi::CallbackInfo& info) {
  double total = 0;
  for (const auto& kv : g_tensors) total += static_cast<double>(kv.second.numel() * kv.second.element_size());
  return Napi::Number::New(info.Env(), total);
}

// ---------------------------------------------------------------------------------------------
// the generic op entry point

CachedOp& findOp(const std::string& name, const std::string& overload) {
  std::string key = name + "." + overload;
  auto it = g_ops.find(key);
  if (it != g_ops.end()) return *it->second;
  auto handle = c10::Dispatcher::singleton().findSchemaOrThrow(name.c_str(), overload.c_str());
  const auto& schema = handle.schema();
  auto op = std::make_unique<CachedOp>(CachedOp{handle, schema.arguments(), schema.returns().size()});
  auto& ref = *op;
  g_ops.emplace(key, std::move(op));
  return ref;
}

std::string describeArg(const c10::Argument& a) {
  std::ostringstream s;
  s << a;
  return s.str();
}

c10::IValue toScalar(const Napi::Value& v) {
  if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
  double d = v.As<Napi::Number>().DoubleValue();
  // integral values stay integers so they do not promote an int tensor to float
  if (std::isfinite(d) && d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9.0e15) return c10::IValue(static_cast<int64_t>(d));
  return c10::IValue(d);
}

c10::IValue convertArg(const Napi::Value& v, const c10::Argument& arg, const std::string& opName) {
  const auto& type = arg.type();
  const auto& real = arg.real_type();
  auto kind = type->kind();
  auto fail = [&](const std::string& why) -> std::runtime_error {
    return std::runtime_error(opName + ": argument " + describeArg(arg) + ": " + why);
  };
  if (kind == c10::OptionalType::Kind) {
    if (v.IsNull() || v.IsUndefined()) return c10::IValue();
    auto elem = type->castRaw<c10::OptionalType>()->getElementType();
    auto relem = real->kind() == c10::OptionalType::Kind ? real->castRaw<c10::OptionalType>()->getElementType() : elem;
    c10::Argument inner(arg.name(), elem, relem, arg.N(), c10::nullopt, arg.kwarg_only());
    return convertArg(v, inner, opName);
  }
  switch (kind) {
    case c10::TypeKind::TensorType: {
      if (!v.IsNumber()) throw fail("expected a tensor id");
      return c10::IValue(get(v.As<Napi::Number>().Int64Value()));
    }
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      auto rk = real->kind();
      if (rk == c10::TypeKind::ScalarTypeType) {
        if (v.IsString()) return c10::IValue(static_cast<int64_t>(dtypeFromName(v.As<Napi::String>().Utf8Value())));
      }
      if (!v.IsNumber()) throw fail("expected a number");
      return c10::IValue(v.As<Napi::Number>().Int64Value());
    }
    case c10::TypeKind::FloatType: {
      if (!v.IsNumber()) throw fail("expected a number");
      return c10::IValue(v.As<Napi::Number>().DoubleValue());
    }
    case c10::TypeKind::BoolType: {
      if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
      if (v.IsNumber()) return c10::IValue(v.As<Napi::Number>().DoubleValue() != 0);
      throw fail("expected a boolean");
    }
    case c10::TypeKind::NumberType: {
      if (!v.IsNumber() && !v.IsBoolean()) throw fail("expected a number (Scalar)");
      return toScalar(v);
    }
    case c10::TypeKind::StringType: {
      if (!v.IsString()) throw fail("expected a string");
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    }
    case c10::TypeKind::DeviceObjType: {
      if (!v.IsString()) throw fail("expected a device string");
      return c10::IValue(c10::Device(v.As<Napi::String>().Utf8Value()));
    }
    case c10::TypeKind::ListType: {
      if (!v.IsArray()) throw fail("expected an array");
      auto arr = v.As<Napi::Array>();
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      auto ek = elem->kind();
      if (ek == c10::TypeKind::IntType || ek == c10::TypeKind::SymIntType) {
        return c10::IValue(toIntVector(v, arg.name().c_str()));
      }
      if (ek == c10::TypeKind::FloatType) {
        std::vector<double> out(arr.Length());
        for (uint32_t i = 0; i < arr.Length(); i++) out[i] = arr.Get(i).As<Napi::Number>().DoubleValue();
        return c10::IValue(out);
      }
      if (ek == c10::TypeKind::BoolType) {
        c10::List<bool> out;
        for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).ToBoolean().Value());
        return c10::IValue(out);
      }
      if (ek == c10::TypeKind::TensorType) {
        c10::List<at::Tensor> out;
        out.reserve(arr.Length());
        for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(get(arr.Get(i).As<Napi::Number>().Int64Value()));
        return c10::IValue(out);
      }
      if (ek == c10::OptionalType::Kind) {
        // Tensor?[] (index)
        c10::List<c10::optional<at::Tensor>> out;
        for (uint32_t i = 0; i < arr.Length(); i++) {
          auto e = arr.Get(i);
          if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
          else out.push_back(get(e.As<Napi::Number>().Int64Value()));
        }
        return c10::IValue(out);
      }
      throw fail("unsupported list element type " + elem->str());
    }
    default:
      throw fail("unsupported argument type " + type->str());
  }
}

void collectOutputs(const c10::IValue& v, bool raw, std::vector<int64_t>& ids) {
  if (v.isTensor()) {
    ids.push_back(put(raw ? v.toTensor() : narrow(v.toTensor())));
  } else if (v.isTensorList()) {
    for (const at::Tensor& t : v.toTensorVector()) ids.push_back(put(raw ? t : narrow(t)));
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) collectOutputs(e, raw, ids);
  } else if (v.isNone()) {
    ids.push_back(0);
  } else {
    throw std::runtime_error(std::string("runOp: unsupported return type ") + v.tagKind());
  }
}

// runOp(name, overload, inputs, raw?) -> ids
Napi::Value RunOp(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto inputs = info[2].As<Napi::Array>();
  bool raw = info.Length() > 3 && info[3].ToBoolean().Value();
  try {
    CachedOp& op = findOp(name, overload);
    const std::string label = overload.empty() ? name : name + "." + overload;
    if (inputs.Length() > op.args.size()) {
      throw std::runtime_error(label + ": " + std::to_string(inputs.Length()) + " inputs for " + std::to_string(op.args.size()) + " arguments");
    }
    c10::InferenceMode guard;
    torch::jit::Stack stack;
    stack.reserve(op.args.size());
    for (size_t i = 0; i < op.args.size(); i++) {
      const auto& arg = op.args[i];
      Napi::Value v = i < inputs.Length() ? inputs.Get(static_cast<uint32_t>(i)) : env.Undefined();
      if (v.IsUndefined()) {
        if (arg.default_value()) {
          stack.push_back(*arg.default_value());
          continue;
        }
        auto rk = arg.real_type()->kind();
        if (rk == c10::OptionalType::Kind) {
          auto inner = arg.real_type()->castRaw<c10::OptionalType>()->getElementType()->kind();
          // factory ops: place outputs on the backend's device
          if (inner == c10::TypeKind::DeviceObjType && g_device.type() != c10::kCPU) {
            stack.push_back(c10::IValue(g_device));
            continue;
          }
          stack.push_back(c10::IValue());
          continue;
        }
        throw std::runtime_error(label + ": missing argument " + describeArg(arg));
      }
      stack.push_back(convertArg(v, arg, label));
    }
    op.handle.callBoxed(&stack);
    std::vector<int64_t> ids;
    for (const auto& out : stack) collectOutputs(out, raw, ids);
    auto result = Napi::Array::New(env, ids.size());
    for (size_t i = 0; i < ids.size(); i++) result.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(ids[i])));
    return result;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, name + (overload.empty() ? "" : "." + overload) + ": " + e.what_without_backtrace());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value Schema(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  try {
    auto& op = findOp(info[0].As<Napi::String>().Utf8Value(), info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "");
    std::ostringstream s;
    s << op.handle.schema();
    return Napi::String::New(env, s.str());
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  }
}

// ---------------------------------------------------------------------------------------------
// threads and devices

using openblas_set_fn = void (*)(int);
using openblas_get_fn = int (*)();

void* openblasHandle() {
  static void* h = [] {
    for (const char* lib : {"libopenblas.so.0", "libblas.so.3", "libopenblas.so", "libopenblasp.so.0"}) {
      if (void* p = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) {
        if (dlsym(p, "openblas_set_num_threads")) return p;
      }
    }
    return static_cast<void*>(nullptr);
  }();
  return h;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int intra = info[0].As<Napi::Number>().Int32Value();
  int blas = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : intra;
  if (intra > 0) at::set_num_threads(intra);
  if (void* h = openblasHandle()) {
    if (blas > 0) reinterpret_cast<openblas_set_fn>(dlsym(h, "openblas_set_num_threads"))(blas);
  }
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("intraOp", Napi::Number::New(env, at::get_num_threads()));
  int blas = -1;
  if (void* h = openblasHandle()) {
    if (auto f = reinterpret_cast<openblas_get_fn>(dlsym(h, "openblas_get_num_threads"))) blas = f();
  }
  out.Set("openblas", Napi::Number::New(env, blas));
  return out;
}

Napi::Value SetDevice(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string d = info[0].As<Napi::String>().Utf8Value();
  try {
    c10::Device dev(d);
    if (dev.is_cuda()) {
      if (!at::hasCUDA()) throw std::runtime_error("device " + d + ": this libtorch has no CUDA support (built CPU-only, or libtorch_cuda not linked)");
      // validates the index (throws for an absent device)
      c10::InferenceMode guard;
      auto probe = at::empty({1}, at::TensorOptions().device(dev));
      (void)probe;
    } else if (!dev.is_cpu()) {
      throw std::runtime_error("device " + d + ": only cpu and cuda:N are supported");
    }
    g_device = dev;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("setDevice(") + d + "): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  out.Set("cuda", Napi::Boolean::New(env, at::hasCUDA()));
  out.Set("device", Napi::String::New(env, g_device.str()));
  out.Set("parallel", Napi::String::New(env, at::get_parallel_info()));
  out.Set("openblas", Napi::Boolean::New(env, openblasHandle() != nullptr));
  out.Set("cxx11abi", Napi::Number::New(env, _GLIBCXX_USE_CXX11_ABI));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("shape", Napi::Function::New(env, Shape));
  exports.Set("dtype", Napi::Function::New(env, Dtype));
  exports.Set("count", Napi::Function::New(env, Count));
  exports.Set("bytes", Napi::Function::New(env, Bytes));
  exports.Set("runOp", Napi::Function::New(env, RunOp));
  exports.Set("schema", Napi::Function::New(env, Schema));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("setDevice", Napi::Function::New(env, SetDevice));
  exports.Set("info", Napi::Function::New(env, Info));
  return exports;
}

}  // namespace

NODE_API_MODULE(dfdet_torch, Init)
