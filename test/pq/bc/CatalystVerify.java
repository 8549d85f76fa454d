// Independent check with Bouncy Castle (>= 1.80, final ML-DSA OIDs): for each document, the
// primary signature against the issuer's subject public key and, when present, the Catalyst
// alternative signature (X.509 9.8) against the issuer's subjectAltPublicKeyInfo, computed by
// Bouncy Castle's own PreTBSCertificate / PreTBSCertList code.
// Usage: java -cp <bc jars> CatalystVerify.java ISSUER.pem DOC.pem...   (DOC: certificate or CRL)
// Output: "bouncycastle <version>", then one line per document: "<file> primary=<true|false> alternative=<true|false|absent>".
import java.io.FileReader;
import java.security.PublicKey;
import java.security.Security;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.SubjectAltPublicKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

public class CatalystVerify {
  static Object read(String path) throws Exception {
    try (PEMParser p = new PEMParser(new FileReader(path))) {
      return p.readObject();
    }
  }

  static ContentVerifierProvider verifier(SubjectPublicKeyInfo spki) throws Exception {
    PublicKey key = new JcaPEMKeyConverter().setProvider("BC").getPublicKey(spki);
    return new JcaContentVerifierProviderBuilder().setProvider("BC").build(key);
  }

  public static void main(String[] args) throws Exception {
    BouncyCastleProvider bc = new BouncyCastleProvider();
    Security.addProvider(bc);
    System.out.println("bouncycastle " + BouncyCastleProvider.class.getPackage().getImplementationVersion() + " (" + bc.getInfo() + ")");
    X509CertificateHolder issuer = (X509CertificateHolder) read(args[0]);
    SubjectAltPublicKeyInfo altInfo = SubjectAltPublicKeyInfo.fromExtensions(issuer.getExtensions());
    ContentVerifierProvider primary = verifier(issuer.getSubjectPublicKeyInfo());
    ContentVerifierProvider alt = altInfo == null ? null
        : verifier(new SubjectPublicKeyInfo(altInfo.getAlgorithm(), altInfo.getSubjectAltPublicKey()));
    for (int i = 1; i < args.length; i++) {
      Object doc = read(args[i]);
      String p, a;
      if (doc instanceof X509CertificateHolder) {
        X509CertificateHolder c = (X509CertificateHolder) doc;
        p = valid(() -> c.isSignatureValid(primary));
        a = hasAlt(c.getExtensions()) ? (alt == null ? "no-issuer-alt-key" : valid(() -> c.isAlternativeSignatureValid(alt))) : "absent";
      } else if (doc instanceof X509CRLHolder) {
        X509CRLHolder c = (X509CRLHolder) doc;
        p = valid(() -> c.isSignatureValid(primary));
        a = hasAlt(c.getExtensions()) ? (alt == null ? "no-issuer-alt-key" : valid(() -> c.isAlternativeSignatureValid(alt))) : "absent";
      } else {
        throw new IllegalArgumentException(args[i] + ": not a certificate or CRL");
      }
      System.out.println(args[i] + " primary=" + p + " alternative=" + a);
    }
  }

  interface Check {
    boolean run() throws Exception;
  }

  /** A key that does not fit the signature algorithm (ML-DSA-87 key, ML-DSA-65 signature) is a failed check, not a crash. */
  static String valid(Check c) {
    try {
      return String.valueOf(c.run());
    } catch (Exception e) {
      return "false";
    }
  }

  static boolean hasAlt(Extensions e) {
    return e != null && e.getExtension(org.bouncycastle.asn1.x509.Extension.altSignatureValue) != null;
  }
}
