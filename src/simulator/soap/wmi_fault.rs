//! How a host refuses a WQL select, in the shapes captured from real hosts
//! (see the research note on Windows fidelity): always `n:CannotProcessFilter`
//! with code 2150858778; on WinRM 2.0 (2008 R2) a ProviderFault whose nested
//! WSManFault carries the same code and the cause only as text, on WinRM
//! 3.0+ an `MSFT_WmiError` detail. The WMI code (0x8004100E, …) is not on
//! the wire. Texts are in the host's language (our wording of Windows').

use super::ns;
use super::xml::{escape, escape_into};
use crate::simulator::estate::{Locale, WindowsRelease};

/// 0x8033801A: "the data source could not process the filter".
pub const CODE_CANNOT_PROCESS_FILTER: u32 = 2_150_858_778;
/// 0x80338104: "the WMI service returned an 'access denied' error".
pub const CODE_WMI_ACCESS_DENIED: u32 = 2_150_859_012;

/// Why WMI refused; only the (localized) text says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    InvalidNamespace,
    InvalidClass,
    InvalidQuery,
    ProviderLoadFailure,
}

/// Who is speaking: the host's name, release and language.
#[derive(Debug, Clone, Copy)]
pub struct Speaker<'a> {
    pub machine: &'a str,
    pub release: WindowsRelease,
    pub locale: Locale,
}

impl Speaker<'_> {
    pub fn lang(&self) -> &'static str {
        match self.locale {
            Locale::En => "en-US",
            Locale::Fr => "fr-FR",
            Locale::Ja => "ja-JP",
        }
    }

    /// WinRM 2.0 (Windows Server 2008 R2) nests a ProviderFault; 3.0 and
    /// later send `MSFT_WmiError`.
    fn winrm2(&self) -> bool {
        self.release == WindowsRelease::W2008R2
    }
}

pub fn filter_reason(locale: Locale) -> &'static str {
    match locale {
        Locale::En => {
            "The data source could not process the filter. The filter might be missing or it might be invalid. Change the filter and try the request again.  "
        }
        Locale::Fr => {
            "La source de données n’a pas pu traiter le filtre. Le filtre est peut-être manquant ou non valide. Modifiez le filtre et réessayez la requête. "
        }
        Locale::Ja => {
            "データ ソースはフィルターを処理できませんでした。フィルターが存在しないか、無効である可能性があります。フィルターを変更してから要求をやり直してください。"
        }
    }
}

pub fn cause_text(cause: Cause, locale: Locale) -> &'static str {
    use Cause::*;
    match (cause, locale) {
        (InvalidNamespace, Locale::En) => "Invalid namespace ",
        (InvalidNamespace, Locale::Fr) => "Espace de noms non valide ",
        (InvalidNamespace, Locale::Ja) => "名前空間が無効です ",
        (InvalidClass, Locale::En) => "The specified class does not exist in the given namespace. ",
        (InvalidClass, Locale::Fr) => {
            "La classe spécifiée n’existe pas dans l’espace de noms donné. "
        }
        (InvalidClass, Locale::Ja) => "指定されたクラスは、指定された名前空間に存在しません。",
        (InvalidQuery, Locale::En) => "Invalid query ",
        (InvalidQuery, Locale::Fr) => "Requête non valide ",
        (InvalidQuery, Locale::Ja) => "クエリが無効です ",
        (ProviderLoadFailure, Locale::En) => "Provider load failure ",
        (ProviderLoadFailure, Locale::Fr) => "Échec du chargement du fournisseur ",
        (ProviderLoadFailure, Locale::Ja) => "プロバイダーの読み込みエラーです ",
    }
}

pub fn access_denied_reason(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Access is denied. ",
        Locale::Fr => "Accès refusé. ",
        Locale::Ja => "アクセスが拒否されました。",
    }
}

/// The `s:Fault` element of a refused select (action
/// `…/enumeration/fault`).
pub fn refusal(who: &Speaker<'_>, cause: Cause, filter: Option<&str>) -> String {
    let mut body = String::with_capacity(2000);
    body.push_str("<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>n:CannotProcessFilter</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"");
    body.push_str(who.lang());
    body.push_str("\">");
    escape_into(&mut body, filter_reason(who.locale));
    body.push_str("</s:Text></s:Reason><s:Detail>");
    if who.winrm2() {
        provider_fault(&mut body, who, cause, filter);
    } else {
        wmi_error(&mut body, who, cause);
    }
    body.push_str("</s:Detail></s:Fault>");
    body
}

fn wsman_fault_open(body: &mut String, code: u32, machine: &str) {
    body.push_str(&format!(
        "<f:WSManFault xmlns:f=\"{}\" Code=\"{code}\" Machine=\"{}\"><f:Message>",
        ns::FAULT,
        escape(machine)
    ));
}

/// WinRM 2.0: the cause only as text in a nested WSManFault with the same
/// code, and the query in `__ExtendedStatus`.
fn provider_fault(body: &mut String, who: &Speaker<'_>, cause: Cause, filter: Option<&str>) {
    wsman_fault_open(body, CODE_CANNOT_PROCESS_FILTER, who.machine);
    body.push_str(
        "<f:ProviderFault provider=\"WMI Provider\" path=\"%systemroot%\\system32\\WsmWmiPl.dll\">",
    );
    wsman_fault_open(body, CODE_CANNOT_PROCESS_FILTER, who.machine);
    escape_into(body, cause_text(cause, who.locale));
    body.push_str("</f:Message></f:WSManFault>");
    if let Some(q) = filter {
        body.push_str("<f:ExtendedError><p:__ExtendedStatus xmlns:p=\"http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/__ExtendedStatus\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"p:__ExtendedStatus_Type\"><p:Description xsi:nil=\"true\"/><p:Operation>ExecQuery</p:Operation><p:ParameterInfo>");
        escape_into(body, q);
        body.push_str("</p:ParameterInfo><p:ProviderName>WinMgmt</p:ProviderName><p:StatusCode xsi:nil=\"true\"/></p:__ExtendedStatus></f:ExtendedError>");
    }
    body.push_str("</f:ProviderFault></f:Message></f:WSManFault>");
}

/// WinRM 3.0+: `MSFT_WmiError` with the WinRM code; CIM status 1 (failed)
/// and the WinRM HRESULT, never the WMI one.
fn wmi_error(body: &mut String, who: &Speaker<'_>, cause: Cause) {
    body.push_str("<p:MSFT_WmiError b:IsCIM_Error=\"true\" xmlns:b=\"http://schemas.microsoft.com/wbem/wsman/1/cim\" xmlns:p=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError\" xmlns:cim=\"http://schemas.dmtf.org/wbem/wscim/1/common\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"p:MSFT_WmiError_Type\">");
    body.push_str("<p:CIMStatusCode xsi:type=\"cim:cimUnsignedInt\">1</p:CIMStatusCode><p:CIMStatusCodeDescription xsi:type=\"cim:cimString\" xsi:nil=\"true\"/><p:ErrorSource xsi:type=\"cim:cimString\" xsi:nil=\"true\"/><p:ErrorSourceFormat xsi:type=\"cim:cimUnsignedShort\">0</p:ErrorSourceFormat><p:ErrorType xsi:type=\"cim:cimUnsignedShort\">0</p:ErrorType><p:Message xsi:type=\"cim:cimString\">");
    escape_into(body, cause_text(cause, who.locale));
    body.push_str("</p:Message><p:MessageID xsi:type=\"cim:cimString\">HRESULT 0x8033801a</p:MessageID><p:OtherErrorType xsi:type=\"cim:cimString\" xsi:nil=\"true\"/><p:OwningEntity xsi:type=\"cim:cimString\" xsi:nil=\"true\"/><p:PerceivedSeverity xsi:type=\"cim:cimUnsignedShort\">0</p:PerceivedSeverity><p:ProbableCause xsi:type=\"cim:cimUnsignedShort\">0</p:ProbableCause><p:error_Category xsi:type=\"cim:cimUnsignedShort\">30</p:error_Category>");
    body.push_str(&format!(
        "<p:error_Code xsi:type=\"cim:cimUnsignedInt\">{CODE_CANNOT_PROCESS_FILTER}</p:error_Code>"
    ));
    body.push_str("<p:error_Type xsi:type=\"cim:cimString\">HRESULT</p:error_Type><p:error_WindowsErrorMessage xsi:type=\"cim:cimString\">");
    escape_into(body, filter_reason(who.locale));
    body.push_str("</p:error_WindowsErrorMessage></p:MSFT_WmiError>");
}

/// Access denied on a WMI namespace: `w:AccessDenied` with 2150859012.
pub fn wmi_access_denied(who: &Speaker<'_>) -> String {
    let mut body = String::with_capacity(600);
    body.push_str("<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"");
    body.push_str(who.lang());
    body.push_str("\">");
    escape_into(&mut body, access_denied_reason(who.locale));
    body.push_str("</s:Text></s:Reason><s:Detail>");
    wsman_fault_open(&mut body, CODE_WMI_ACCESS_DENIED, who.machine);
    escape_into(&mut body, access_denied_reason(who.locale));
    body.push_str("</f:Message></f:WSManFault></s:Detail></s:Fault>");
    body
}
